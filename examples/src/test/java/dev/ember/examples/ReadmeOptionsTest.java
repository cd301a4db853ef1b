package dev.ember.examples;

import dev.ember.spark.EmberOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The user guide's options table lists every option of {@link EmberOptions#REGISTRY}. */
class ReadmeOptionsTest {
    @Test
    void everyOptionIsInTheReadmeTable() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("..", "spark-connector", "README.md"));
        List<String> missing = new ArrayList<>();
        for (String option : EmberOptions.REGISTRY.all().stream().map(o -> o.name()).toList()) {
            if (lines.stream().noneMatch(l -> l.startsWith("| `" + option + "` |"))) {
                missing.add(option);
            }
        }
        assertTrue(missing.isEmpty(), "spark-connector/README.md's options table lacks " + missing
                + " (one row per option: | `name` | group | meaning |)");
    }

    @Test
    void everyConnectorAndSamplingOptionIsInTheConfTemplate() throws Exception {
        String conf = Files.readString(Path.of("..", "conf", "engine.properties"));
        for (String option : EmberOptions.REGISTRY.all().stream().map(o -> o.name()).toList()) {
            assertTrue(conf.contains("\n" + option + "=") || conf.contains("#" + option + "="),
                    "conf/engine.properties lacks " + option);
        }
    }
}

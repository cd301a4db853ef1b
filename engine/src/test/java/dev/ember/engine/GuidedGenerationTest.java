package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.guided.Constraint;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guided generation through the whole engine (CPU backend, demo model). */
class GuidedGenerationTest {
    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() {
        DemoModel.write(modelDir);
    }

    private static Engine engine() {
        return Engine.create(EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(16L << 20).build());
    }

    @Test
    void choiceRegexAndSchemaOutputsAreValid() {
        List<String> labels = List.of("positive", "negative", "neutral", "ça va");
        String regex = "[a-z]{2,4}-\\d{2}";
        String schema = "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                + "\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10}},\"required\":[\"label\",\"score\"]}";
        try (Engine engine = engine()) {
            List<Request> requests = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                SamplingParams.Builder p = SamplingParams.builder().maxTokens(40).temperature(i % 2 == 0 ? 0 : 1.0)
                        .seed(100L + i);
                Constraint c = switch (i % 3) {
                    case 0 -> Constraint.choice(labels);
                    case 1 -> Constraint.regex(regex);
                    default -> Constraint.json(schema);
                };
                requests.add(Request.ofText("r" + i, "review number " + i + ": ", p.guided(c).build()));
            }
            List<Result> results = engine.generate(requests);
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                assertNull(r.error(), r.requestId() + ": " + r.error());
                assertEquals(FinishReason.STOP, r.finishReason(), r.requestId());
                switch (i % 3) {
                    case 0 -> assertTrue(labels.contains(r.text()), r.text());
                    case 1 -> assertTrue(Pattern.matches(regex, r.text()), r.text());
                    default -> assertTrue(r.text().matches("\\{\"label\":\"(spam|ham)\",\"score\":([0-9]|10)}"), r.text());
                }
            }
            assertEquals(3, engine.constraints().size(), "one compiled index per distinct constraint");
        }
    }

    @Test
    void lengthFinishBeforeTheConstraintIsCompleteCarriesAnError() {
        try (Engine engine = engine()) {
            Result r = engine.generate(List.of(Request.ofText("long", "count: ", SamplingParams.builder().maxTokens(3)
                    .temperature(0).guided(Constraint.regex("[a-z]{30}")).build()))).get(0);
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertNotNull(r.error());
            assertTrue(r.error().contains("max_tokens=3") && r.error().contains("guided_regex"), r.error());
            assertTrue(Pattern.matches("[a-z]*", r.text()), "the partial text still follows the constraint: " + r.text());
        }
    }

    @Test
    void anInvalidConstraintIsARowError() {
        try (Engine engine = engine()) {
            Result r = engine.generate(List.of(Request.ofText("bad", "x", SamplingParams.builder()
                    .guided(Constraint.json("{\"type\":\"string\",\"format\":\"email\"}")).build()))).get(0);
            assertEquals(FinishReason.ERROR, r.finishReason());
            assertTrue(r.error().contains("'format'"), r.error());
        }
    }
}

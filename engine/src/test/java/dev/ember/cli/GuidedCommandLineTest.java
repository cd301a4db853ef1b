package dev.ember.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --guided-choice, --guided-regex, --guided-json FILE and --return-type on the demo model. */
class GuidedCommandLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = DemoModel.write(dir.resolve("demo"));
    }

    private static List<JsonNode> generate(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)) {
            String[] all = new String[args.length + 5];
            all[0] = "--model";
            all[1] = model.toString();
            all[2] = "--json";
            all[3] = "--max-tokens";
            all[4] = "60";
            System.arraycopy(args, 0, all, 5, args.length);
            Generate.run(all, o, e);
        }
        return out.toString(StandardCharsets.UTF_8).lines().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception ex) {
                throw new AssertionError(l, ex);
            }
        }).toList();
    }

    @Test
    void eachFlagConstrainsTheOutput() throws Exception {
        for (JsonNode r : generate("--guided-choice", "cat,dog,bird", "one", "two")) {
            assertTrue(List.of("cat", "dog", "bird").contains(r.get("text").asText()), r.toString());
        }
        for (JsonNode r : generate("--guided-regex", "[0-9]{3}-[a-z]{2}", "three")) {
            assertTrue(r.get("text").asText().matches("[0-9]{3}-[a-z]{2}"), r.toString());
        }
        Path schema = dir.resolve("schema.json");
        Files.writeString(schema, "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}");
        for (JsonNode r : generate("--guided-json", schema.toString(), "four")) {
            assertTrue(r.get("text").asText().matches("\\{\"ok\":(true|false)}"), r.toString());
        }
        for (JsonNode r : generate("--return-type", "STRUCT<label: STRING, n: TINYINT>", "--temperature", "0.8", "five")) {
            String text = r.get("text").asText();
            if (r.get("error").isNull()) {
                JsonNode v = JSON.readTree(text);
                assertTrue(v.get("label").isTextual() && v.get("n").canConvertToInt(), text);
                assertTrue(Math.abs(v.get("n").asInt()) <= 128, text);
            } else {
                assertEquals("length", r.get("finish_reason").asText(), r.toString());
            }
        }
    }

    @Test
    void badValuesAreClearErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> generate("--return-type", "MAP<STRING, INT>"));
        assertTrue(e.getMessage().contains("return_type") && e.getMessage().contains("MAP"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> generate("--guided-json", dir.resolve("missing.json").toString()));
        assertTrue(e.getMessage().contains("guided_json"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> generate("--guided-regex", "a", "--guided-choice", "a,b"));
        assertTrue(e.getMessage().contains("one of guided_choice"), e.getMessage());
    }
}

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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two entry points the README starts, run in-process on the demo model. */
class CommandLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = DemoModel.write(dir.resolve("demo"));
    }

    private static List<String> run(boolean benchmark, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            if (benchmark) {
                Benchmark.run(args, o, e);
            } else {
                Generate.run(args, o, e);
            }
        }
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void generatePrintsOneJsonResultPerPromptFromArgumentsAndAFile() throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "\"from a file\"\n{\"id\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n"
                + "{\"prompt\": null}\n");
        List<String> lines = run(false, "--model", model.toString(), "--json", "--max-tokens", "5", "--ignore-eos",
                "--prompts", prompts.toString(), "first prompt");
        assertEquals(4, lines.size(), String.join("\n", lines));
        JsonNode first = JSON.readTree(lines.get(0));
        assertEquals("0", first.get("id").asText());
        assertEquals(5, first.get("completion_tokens").asInt());
        assertEquals(5, first.get("token_ids").size());
        assertEquals("length", first.get("finish_reason").asText());
        assertEquals("m", JSON.readTree(lines.get(2)).get("id").asText());
        JsonNode bad = JSON.readTree(lines.get(3));
        assertEquals("error", bad.get("finish_reason").asText());
        assertTrue(bad.get("error").asText().contains("prompt"), bad.toString());
    }

    @Test
    void greedyGenerationIsRepeatableAndSamplingOptionsApply() throws Exception {
        List<String> a = run(false, "--model", model.toString(), "--json", "--max-tokens", "6", "--temperature", "0", "hello");
        List<String> b = run(false, "--model", model.toString(), "--json", "--max-tokens", "6", "--temperature", "0", "hello");
        assertEquals(a, b);
        List<String> hot = run(false, "--model", model.toString(), "--json", "--max-tokens", "6", "--temperature", "5",
                "--request-seed", "3", "--ignore-eos", "hello");
        assertNotEquals(JSON.readTree(a.get(0)).get("token_ids"), JSON.readTree(hot.get(0)).get("token_ids"));
    }

    @Test
    void badOptionsFailNamingThem() {
        ConfigException unknown = assertThrows(ConfigException.class, () -> run(false, "--modle", "x"));
        assertEquals("unknown option --modle; did you mean --model?", unknown.getMessage());
        ConfigException value = assertThrows(ConfigException.class,
                () -> run(false, "--model", model.toString(), "--max-tokens", "many", "x"));
        assertEquals("option 'max_tokens' is 'many'; allowed: an integer >= 1", value.getMessage());
    }

    @Test
    void benchmarkReportsTheWorkloadsTokens() throws Exception {
        Path workload = dir.resolve("w.json");
        Files.writeString(workload, "{\"temperature\": 1.0, \"ignore_eos\": true, \"requests\": ["
                + "{\"prompt_token_ids\": [1, 2, 3], \"max_tokens\": 4},"
                + "{\"prompt_token_ids\": [5, 6, 7, 8, 9], \"max_tokens\": 7},"
                + "{\"prompt_token_ids\": [100000], \"max_tokens\": 2}]}");
        List<String> lines = run(true, "--model", model.toString(), "--workload", workload.toString());
        JsonNode figures = JSON.readTree(lines.get(lines.size() - 1));
        assertEquals(3, figures.get("requests").asInt());
        assertEquals(0, figures.get("errors").asInt());
        assertEquals(4 + 7 + 2, figures.get("output_tokens").asInt(), "ignore_eos: every request runs to max_tokens");
        assertEquals(3 + 5 + 1, figures.get("prompt_tokens").asInt());
        assertTrue(figures.get("output_tokens_per_s").asDouble() > 0);
        List<String> limited = run(true, "--model", model.toString(), "--workload", workload.toString(), "--limit", "1");
        assertEquals(4, JSON.readTree(limited.get(limited.size() - 1)).get("output_tokens").asInt());
        List<String> overridden = run(true, "--model", model.toString(), "--workload", workload.toString(),
                "--max-tokens", "1", "--top-p", "0.9");
        assertEquals(3, JSON.readTree(overridden.get(overridden.size() - 1)).get("output_tokens").asInt(),
                "sampling options on the command line override the workload's");
    }
}

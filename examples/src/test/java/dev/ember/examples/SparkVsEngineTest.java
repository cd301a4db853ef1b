package dev.ember.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SparkVsEngineTest {
    @Test
    void bothSidesMeasuredPerRoundAndAsJson() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        SparkVsEngine.Figures f = SparkVsEngine.run(TestSpark.get(),
                new String[]{"--prompts", "6", "--rounds", "2", "--warmup-rounds", "0", "--max_tokens", "4"}, new PrintStream(printed));
        assertEquals(2, f.engineTokensPerSecond().size());
        assertEquals(2, f.sparkTokensPerSecond().size());
        assertTrue(f.ratio() > 0 && Double.isFinite(f.ratio()), "ratio " + f.ratio());
        JsonNode json = new ObjectMapper().readTree(f.json());
        assertEquals(6, json.get("prompts").asInt());
        assertEquals(2, json.get("spark_tok_s").size());
        assertTrue(printed.toString().contains(f.json()), "the JSON line is printed");
    }

    @Test
    void promptsAreDeterministicAndVaried() {
        assertEquals(SparkVsEngine.prompts(5), SparkVsEngine.prompts(5));
        assertTrue(SparkVsEngine.prompts(3).get(1).length() != SparkVsEngine.prompts(3).get(2).length());
    }
}

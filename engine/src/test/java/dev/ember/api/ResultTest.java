package dev.ember.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultTest {

    @Test
    void withErrorKeepsEverythingGeneratedAndIsNotOk() {
        List<TokenLogprobs> lps = List.of(new TokenLogprobs(7, -0.5f, new int[] {7}, new float[] {-0.5f}));
        Result r = new Result("r1", "12", new int[] {7, 9}, FinishReason.LENGTH, 5, 2, null, lps, Map.of("a", 0.25));
        assertTrue(r.ok());

        Result e = r.withError("return_type int: cut");

        assertFalse(e.ok());
        assertEquals("return_type int: cut", e.error());
        assertEquals("r1", e.requestId());
        assertEquals("12", e.text());
        assertArrayEquals(new int[] {7, 9}, e.tokenIds());
        assertEquals(FinishReason.LENGTH, e.finishReason());
        assertEquals(5, e.promptTokens());
        assertEquals(2, e.completionTokens());
        assertEquals(lps, e.logprobs());
        assertEquals(Map.of("a", 0.25), e.choiceProbs());
        assertTrue(r.ok(), "the original is unchanged");
    }
}

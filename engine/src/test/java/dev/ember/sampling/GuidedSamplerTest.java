package dev.ember.sampling;

import dev.ember.guided.TokenMask;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sampler under a guided-decoding mask. */
class GuidedSamplerTest {
    private static final int EOS = 4;
    private final Sampler sampler = new Sampler(List.of(EOS));

    private static TokenMask mask(boolean endOnly, int... allowed) {
        long[] bits = new long[1];
        for (int t : allowed) {
            bits[0] |= 1L << t;
        }
        return new TokenMask(bits, endOnly);
    }

    @Test
    void onlyAllowedTokensAreSampledAndLogprobsAreOverThem() {
        float[] logits = {5f, 1f, 2f, 0.5f, 0f, 3f};
        TokenMask m = mask(false, 1, 2, 3);
        SamplingParams greedy = SamplingParams.builder().temperature(0).logprobs(2).build();
        Sample s = sampler.sample(logits, greedy, 1, 0, new int[] {0}, 1, m);
        assertEquals(2, s.tokenId(), "the best allowed token, not the best overall (0)");
        double sum = Math.exp(1) + Math.exp(2) + Math.exp(0.5);
        assertEquals((float) (2 - Math.log(sum)), s.logprob(), 1e-6, "log-softmax over the allowed tokens");
        assertEquals(2, s.topTokenIds()[0]);
        assertEquals(1, s.topTokenIds()[1]);
        SamplingParams random = SamplingParams.builder().temperature(1.5).topK(2).build();
        int[] counts = new int[6];
        for (int i = 0; i < 2000; i++) {
            counts[sampler.sample(logits, random, 77 + i, 0, new int[] {0}, 1, m).tokenId()]++;
        }
        assertEquals(0, counts[0] + counts[3] + counts[4] + counts[5], "top-k among allowed: 2 and 1 only");
        assertTrue(counts[1] > 0 && counts[2] > counts[1]);
    }

    @Test
    void minTokensYieldsWhenOnlyEndOfSequenceIsAllowed() {
        float[] logits = {5f, 1f, 2f, 0.5f, 0f, 3f};
        SamplingParams p = SamplingParams.builder().temperature(0.8).minTokens(10).logprobs(1).build();
        Sample s = sampler.sample(logits, p, 3, 2, new int[] {0, 1, 2}, 1, mask(true, EOS));
        assertEquals(EOS, s.tokenId());
        assertEquals(0f, s.logprob(), 1e-7, "the only allowed token has probability 1");
        // not complete: min_tokens still holds EOS back
        Sample t = sampler.sample(logits, p, 3, 2, new int[] {0, 1, 2}, 1, mask(false, EOS, 1));
        assertEquals(1, t.tokenId());
    }
}

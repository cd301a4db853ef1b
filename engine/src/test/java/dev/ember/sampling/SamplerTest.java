package dev.ember.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    // penalties are off where this is used; it only has to be long enough for the output index
    private static final int[] NO_HISTORY = new int[64];
    private final Sampler sampler = new Sampler(List.of(4));

    @Test
    void aRowWhosePenaltiesMaskEveryTokenHasNoCandidateInsteadOfFailingTheBatch() {
        float[] logits = {-10f, -20f, -30f, -15f};
        SamplingParams harsh = SamplingParams.builder().repetitionPenalty(3e38).build();
        int[] history = {0, 1, 2, 3}; // every token seen: l * 3e38 overflows to -inf
        for (double t : new double[] {0, 0.8}) {
            Sample s = sampler.sample(logits, harsh.toBuilder().temperature(t).build(), 1L, 0, history, 4);
            assertEquals(Sampler.NO_CANDIDATE, s.tokenId(), "temperature " + t);
        }
    }

    @Test
    void aTemperatureTooSmallForAFloatSamplesGreedilyNotTokenZero() {
        java.util.Random r = new java.util.Random(3);
        for (int round = 0; round < 20; round++) {
            float[] logits = new float[50];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) r.nextGaussian() * 5;
            }
            logits[0] = -20; // token 0 is never the argmax
            int want = Sampler.argmax(logits);
            for (double t : new double[] {1e-300, 1e-40, 1e-20, 9.9e-6}) {
                SamplingParams p = SamplingParams.builder().temperature(t).seed((long) round).build();
                assertTrue(p.greedy(), "temperature " + t);
                assertEquals(want, sampler.sample(logits, p, round, 0, new int[] {1}, 1).tokenId(), "temperature " + t);
            }
        }
        assertFalse(SamplingParams.builder().temperature(1e-5).build().greedy());
    }

    @Test
    void nonFiniteLogitsAreRefusedNamingThemNotTheMasks() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] logits = {0.5f, bad, 1f};
            assertFalse(Sampler.allFinite(logits));
            for (double t : new double[] {0, 0.7}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits,
                        SamplingParams.builder().temperature(t).build(), 1L, 0, new int[] {1}, 1));
                assertTrue(e.getMessage().contains("NaN or infinite"), e.getMessage());
            }
        }
        assertTrue(Sampler.allFinite(new float[] {0.5f, -3e38f, 3e38f}));
    }

    @Test
    void greedyTakesTheArgmaxAndTheLowestIdOnTies() {
        SamplingParams greedy = SamplingParams.builder().temperature(0).build();
        assertEquals(2, sampler.sample(new float[] {0.1f, 1f, 3f, -2f, 0f}, greedy, 1, 0, NO_HISTORY, 0).tokenId());
        assertEquals(1, sampler.sample(new float[] {0.1f, 3f, 3f, -2f, 3f}, greedy, 1, 0, NO_HISTORY, 0).tokenId());
    }

    @Test
    void sampledFrequenciesMatchTheSoftmax() {
        float[] logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.5f, 0.7f, 1.3f};
        for (double temperature : new double[] {1.0, 0.6}) {
            SamplingParams params = SamplingParams.builder().temperature(temperature).build();
            int n = 20000;
            int[] counts = new int[logits.length];
            for (int i = 0; i < n; i++) {
                // draws for different requests (seeds) and for successive tokens of one request
                counts[sampler.sample(logits, params, 1000 + i / 4, i % 4, NO_HISTORY, 0).tokenId()]++;
            }
            double[] p = softmax(logits, temperature);
            double chi2 = 0;
            for (int i = 0; i < logits.length; i++) {
                double expected = n * p[i];
                chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
            }
            // 7 degrees of freedom: P(chi2 > 29.9) < 1e-4 for a correct sampler; a wrong temperature gives thousands
            assertTrue(chi2 < 29.9, "chi2=" + chi2 + " at temperature " + temperature);
        }
    }

    @Test
    void topKKeepsOnlyTheKLargest() {
        float[] logits = {1.0f, 0.9f, 3.0f, 2.5f, 0.0f, 2.9f};
        SamplingParams params = SamplingParams.builder().topK(2).build();
        assertEquals(Set.of(2, 5), sampledSet(logits, params, 3000));
    }

    @Test
    void topKKeepsTiesAtTheThreshold() {
        float[] logits = {1.0f, 2.0f, 2.0f, 0.5f};
        SamplingParams params = SamplingParams.builder().topK(1).build();
        assertEquals(Set.of(1, 2), sampledSet(logits, params, 3000));
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingTheMass() {
        float[] logits = logOf(0.5, 0.05, 0.3, 0.15);
        // cumulative in probability order: 0.5, 0.8, 0.95, 1.0
        assertEquals(Set.of(0, 2), sampledSet(logits, SamplingParams.builder().topP(0.75).build(), 3000));
        assertEquals(Set.of(0), sampledSet(logits, SamplingParams.builder().topP(0.4).build(), 500));
        assertEquals(Set.of(0, 2, 3), sampledSet(logits, SamplingParams.builder().topP(0.9).build(), 3000));
    }

    @Test
    void topPKeptTokensKeepTheirRelativeProbabilities() {
        float[] logits = logOf(0.5, 0.05, 0.3, 0.15);
        SamplingParams params = SamplingParams.builder().topP(0.75).build();
        int n = 16000;
        int zero = 0;
        for (int i = 0; i < n; i++) {
            zero += sampler.sample(logits, params, 7 + i, 0, NO_HISTORY, 0).tokenId() == 0 ? 1 : 0;
        }
        double expected = 0.5 / 0.8; // renormalized over {0, 2}
        double sigma = Math.sqrt(n * expected * (1 - expected));
        assertEquals(n * expected, zero, 5 * sigma);
    }

    @Test
    void minPDropsTokensBelowTheFractionOfTheTopProbability() {
        float[] logits = logOf(0.5, 0.05, 0.3, 0.15);
        // cutoff 0.25 * 0.5 = 0.125: drops 0.05 only
        assertEquals(Set.of(0, 2, 3), sampledSet(logits, SamplingParams.builder().minP(0.25).build(), 3000));
        // cutoff 0.35: keeps 0.5 only
        assertEquals(Set.of(0), sampledSet(logits, SamplingParams.builder().minP(0.7).build(), 500));
    }

    @Test
    void penaltiesChangeTheLogitsExactlyAsSpecified() {
        float[] logits = {2f, -2f, 1f, 0.5f, 3f};
        int[] history = {0, 1, /* output: */ 2, 2, 0, /* beyond the valid entries: */ 3, 3};
        SamplingParams params = SamplingParams.builder().repetitionPenalty(2).frequencyPenalty(0.5)
                .presencePenalty(0.25).build();
        Penalties.apply(logits, params, history, 2, 3);
        // 0: prompt and once in output: 2/2 - 0.5 - 0.25; 1: prompt only: -2*2; 2: twice in output: 1/2 - 1 - 0.25
        assertArrayEquals(new float[] {0.25f, -4f, -0.75f, 0.5f, 3f}, logits);
    }

    @Test
    void penaltiesApplyBeforeGreedyChoiceButNotToLogprobs() {
        float[] logits = {3f, 2.5f, 0f};
        int[] history = {0};
        SamplingParams params = SamplingParams.builder().temperature(0).repetitionPenalty(1.5).logprobs(1).build();
        Sample s = sampler.sample(logits, params, 1, 0, history, 1);
        assertEquals(1, s.tokenId()); // 3 / 1.5 = 2 < 2.5
        assertEquals(directLogprobs(logits)[1], s.logprob(), 1e-6);
    }

    /** Without logprobs asked for, the logprob is not computed (NaN) and the token is the one drawn with them. */
    @Test
    void aLogprobNotAskedForIsNaNAndChangesNoToken() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(8);
        float[] logits = new float[5_000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 2);
        }
        for (double temperature : new double[] {0, 0.6, 1.5}) {
            SamplingParams plain = SamplingParams.builder().temperature(temperature).build();
            SamplingParams asked = plain.toBuilder().logprobs(1).build();
            for (int index = 0; index < 10; index++) {
                Sample without = sampler.sample(logits, plain, 4, index, NO_HISTORY, 0);
                Sample with = sampler.sample(logits, asked, 4, index, NO_HISTORY, 0);
                assertEquals(with.tokenId(), without.tokenId());
                assertTrue(Float.isNaN(without.logprob()));
                assertEquals(directLogprobs(logits)[with.tokenId()], with.logprob(), 1e-5);
            }
        }
    }

    @Test
    void outOfVocabularyHistoryIsRejected() {
        SamplingParams params = SamplingParams.builder().presencePenalty(1).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[4], params, 1, 1, new int[] {0, 9}, 1));
        assertTrue(e.getMessage().contains("9"), e.getMessage());
    }

    @Test
    void minTokensMasksEosAndStopIdsUntilReached() {
        float[] logits = {0f, 1f, 5f, 0f, 6f, 0.5f};
        SamplingParams params = SamplingParams.builder().temperature(0).minTokens(2).stopTokenIds(Set.of(2, 99)).build();
        int[] history = {1, 1, 1};
        assertEquals(1, sampler.sample(logits, params, 1, 0, history, 1).tokenId());
        assertEquals(1, sampler.sample(logits, params, 1, 1, history, 1).tokenId());
        assertEquals(4, sampler.sample(logits, params, 1, 2, history, 1).tokenId());
        // masked tokens are never drawn either
        SamplingParams random = SamplingParams.builder().minTokens(1).stopTokenIds(Set.of(2)).build();
        Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 2000; i++) {
            seen.add(sampler.sample(logits, random, i, 0, NO_HISTORY, 0).tokenId());
        }
        assertEquals(Set.of(0, 1, 3, 5), seen);
    }

    @Test
    void tokensArePureFunctionsOfSeedIndexAndLogits() {
        float[] logits = new float[100];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        SamplingParams params = SamplingParams.builder().temperature(0.8).topP(0.95).build();
        int[] first = new int[50];
        for (int i = 0; i < first.length; i++) {
            first[i] = sampler.sample(logits, params, 99, i, NO_HISTORY, 0).tokenId();
        }
        int differentSeed = 0;
        for (int i = 0; i < first.length; i++) {
            assertEquals(first[i], sampler.sample(logits.clone(), params, 99, i, NO_HISTORY, 0).tokenId());
            differentSeed += sampler.sample(logits, params, 100, i, NO_HISTORY, 0).tokenId() != first[i] ? 1 : 0;
        }
        assertTrue(differentSeed > 25, "another seed changed only " + differentSeed + " of 50 tokens");
        assertTrue(java.util.Arrays.stream(first).distinct().count() > 10, "successive indexes should differ");
    }

    @Test
    void gumbelDrawUsesTheDocumentedKeys() {
        float[] logits = {0.3f, -0.2f, 1.1f, 0.4f, 0.0f};
        SamplingParams params = SamplingParams.builder().temperature(0.5).build();
        for (int index = 0; index < 20; index++) {
            int best = -1;
            float bestKey = 0;
            for (int i = 0; i < logits.length; i++) {
                float e = -FloatMath.log(Philox.uniform(5, index, i));
                float key = logits[i] / 0.5f - FloatMath.log(e);
                if (best < 0 || key > bestKey) {
                    best = i;
                    bestKey = key;
                }
            }
            assertEquals(best, sampler.sample(logits, params, 5, index, NO_HISTORY, 0).tokenId());
        }
    }

    /**
     * The sampler draws a uniform only for tokens whose key could still win; the token must be the documented
     * full race's, over logits spread far beyond the noise bound (most tokens skipped), with repeated values (ties
     * go to the lowest id) and logits so large that a float's spacing exceeds the noise.
     */
    @Test
    void theDrawSkipsOnlyTokensThatCannotWin() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        double[][] scales = {{1, 1}, {10, 0.5}, {100, 1}, {3, 0.05}, {1e6, 1}, {1e3, 1e-4}};
        for (double[] scale : scales) {
            float[] logits = new float[20_000];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = i % 97 == 5 ? logits[i - 1] : (float) (r.nextGaussian() * scale[0]);
                if (i % 1001 == 7) {
                    logits[i] = -1e30f;
                }
            }
            SamplingParams params = SamplingParams.builder().temperature(scale[1]).build();
            float temperature = (float) scale[1];
            for (int index = 0; index < 40; index++) {
                int best = -1;
                float bestKey = 0;
                for (int i = 0; i < logits.length; i++) {
                    float e = -FloatMath.log(Philox.uniform(17, index, i));
                    float key = logits[i] / temperature - FloatMath.log(e);
                    if (best < 0 || key > bestKey) {
                        best = i;
                        bestKey = key;
                    }
                }
                assertEquals(best, sampler.sample(logits, params, 17, index, NO_HISTORY, 0).tokenId(),
                        "logit scale " + scale[0] + ", temperature " + scale[1] + ", index " + index);
            }
        }
    }

    @Test
    void logprobsAreTheRawLogSoftmaxWithTopNMostLikelyFirst() {
        float[] logits = {0.5f, 2f, -1f, 2f, 1.5f, -3f};
        SamplingParams params = SamplingParams.builder().temperature(0.7).repetitionPenalty(1.3).logprobs(4).build();
        Sample s = sampler.sample(logits, params, 11, 0, new int[] {1, 3}, 2);
        double[] direct = directLogprobs(logits);
        assertEquals(direct[s.tokenId()], s.logprob(), 1e-6);
        assertArrayEquals(new int[] {1, 3, 4, 0}, s.topTokenIds());
        for (int i = 0; i < 4; i++) {
            assertEquals(direct[s.topTokenIds()[i]], s.topLogprobs()[i], 1e-6);
        }
        Sample none = sampler.sample(logits, params.toBuilder().logprobs(0).build(), 11, 0, new int[] {1, 3}, 2);
        assertNull(none.topTokenIds());
        assertNull(none.topLogprobs());
        assertEquals(s.tokenId(), none.tokenId());
    }

    /**
     * The filters at their edge values: top_k at or above the vocabulary is off (the same tokens as without it);
     * top_p below every probability, min_p 1 and top_k 1 keep the most probable token only, and all tokens tied with
     * it for min_p 1 and top_k 1 (top_p keeps the lowest id of a tie); temperature 1e-5 is not greedy yet, but it
     * stretches the gap between the two largest logits (above 2e-3 here) past 200, far beyond the Gumbel noise
     * (below 17).
     */
    @Test
    void filtersAtTheirEdgeValues() {
        java.util.Random r = new java.util.Random(11);
        float[] logits = new float[300];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian() * 2;
        }
        int top = Sampler.argmax(logits);
        float[] sorted = logits.clone();
        java.util.Arrays.sort(sorted);
        assertTrue(sorted[299] - sorted[298] > 2e-3);
        SamplingParams plain = SamplingParams.builder().build();
        for (int seed = 0; seed < 200; seed++) {
            int unfiltered = sampler.sample(logits, plain, seed, 0, NO_HISTORY, 0).tokenId();
            for (int k : new int[] {300, 301, Integer.MAX_VALUE}) {
                assertEquals(unfiltered, sampler.sample(logits, SamplingParams.builder().topK(k).build(), seed, 0,
                        NO_HISTORY, 0).tokenId(), "top_k " + k);
            }
            for (SamplingParams p : List.of(SamplingParams.builder().topP(1e-9).build(),
                    SamplingParams.builder().minP(1).build(), SamplingParams.builder().topK(1).build(),
                    SamplingParams.builder().temperature(1e-5).build())) {
                assertEquals(top, sampler.sample(logits, p, seed, 0, NO_HISTORY, 0).tokenId(), p.toString());
            }
        }
        float[] tie = {1f, 3f, 3f, 0f};
        assertEquals(Set.of(1, 2), sampledSet(tie, SamplingParams.builder().minP(1).build(), 400));
        assertEquals(Set.of(1, 2), sampledSet(tie, SamplingParams.builder().topK(1).build(), 400));
        assertEquals(Set.of(1), sampledSet(tie, SamplingParams.builder().topP(1e-9).build(), 400));
    }

    @Test
    void topIndicesHandlesMoreRequestsThanDistinctValues() {
        assertArrayEquals(new int[] {2, 0, 1}, Sampler.topIndices(new float[] {1f, 1f, 4f}, 3));
        assertArrayEquals(new int[] {4, 1}, Sampler.topIndices(new float[] {0f, 5f, -1f, 5f, 7f}, 2));
    }

    private Set<Integer> sampledSet(float[] logits, SamplingParams params, int draws) {
        Set<Integer> seen = new java.util.TreeSet<>();
        for (int i = 0; i < draws; i++) {
            seen.add(sampler.sample(logits, params, 31 + i, i % 3, NO_HISTORY, 0).tokenId());
        }
        return seen;
    }

    private static float[] logOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            l[i] = (float) Math.log(p[i]);
        }
        return l;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            sum += p[i];
        }
        for (int i = 0; i < logits.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static double[] directLogprobs(float[] logits) {
        double[] p = softmax(logits, 1.0);
        double[] lp = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            lp[i] = Math.log(p[i]);
        }
        return lp;
    }
}

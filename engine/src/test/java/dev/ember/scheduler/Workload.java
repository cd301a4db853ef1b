package dev.ember.scheduler;

import dev.ember.api.FinishReason;
import dev.ember.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Test requests, and what each must produce: {@link #expected} runs {@link FakeModel} densely, one sequence at a time. */
final class Workload {
    static final Set<Integer> EOS = Set.of(0);

    record Req(long id, int[] prompt, SamplingParams params, long seed, int arrivalStep) {
        Sequence newSequence() {
            return new Sequence(id, prompt, params, seed);
        }

        Req arrivingAt(int step) {
            return new Req(id, prompt, params, seed, step);
        }
    }

    record Outcome(int[] tokens, FinishReason reason) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Outcome other && Arrays.equals(tokens, other.tokens) && reason == other.reason;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tokens) * 31 + reason.hashCode();
        }

        @Override
        public String toString() {
            return reason + " " + Arrays.toString(tokens);
        }
    }

    private Workload() {
    }

    /** The tokens a request must produce, computed without any scheduler, KV cache or batching. */
    static Outcome expected(Req r, int maxModelLen) {
        SamplingParams p = r.params();
        int[] context = Arrays.copyOf(r.prompt(), r.prompt().length + p.maxTokens());
        int length = r.prompt().length;
        for (int i = 0; ; i++) {
            int token = FakeModel.next(r.seed(), i, context, length);
            context[length++] = token;
            boolean stopId = (!p.ignoreEos() && EOS.contains(token)) || p.stopTokenIds().contains(token);
            FinishReason reason = null;
            if (stopId && i >= p.minTokens()) {
                reason = FinishReason.STOP;
            } else if (i + 1 == p.maxTokens() || length == maxModelLen) {
                reason = FinishReason.LENGTH;
            }
            if (reason != null) {
                return new Outcome(Arrays.copyOfRange(context, r.prompt().length, length), reason);
            }
        }
    }

    /**
     * A mixed set: prompts built from a few shared prefixes (some whole repeats), lengths 1..maxPrompt, output
     * limits up to maxTokens, some ignoring EOS, some with stop ids or min_tokens; all arriving at step 0.
     */
    static List<Req> mixed(long seed, int count, int maxPrompt, int maxTokens) {
        Random rnd = new Random(seed);
        int[][] prefixes = new int[4][];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = randomTokens(rnd, 1 + rnd.nextInt(maxPrompt - 1));
        }
        List<Req> reqs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] prompt;
            int kind = rnd.nextInt(4);
            if (kind == 0 || i == 0) {
                prompt = randomTokens(rnd, 1 + rnd.nextInt(maxPrompt));
            } else if (kind == 1) {
                prompt = reqs.get(rnd.nextInt(reqs.size())).prompt().clone();
            } else {
                int[] prefix = prefixes[rnd.nextInt(prefixes.length)];
                int[] suffix = randomTokens(rnd, rnd.nextInt(maxPrompt - prefix.length + 1));
                prompt = concat(prefix, suffix);
                if (prompt.length == 0) {
                    prompt = new int[] {5};
                }
            }
            SamplingParams.Builder b = SamplingParams.builder().maxTokens(1 + rnd.nextInt(maxTokens));
            int flavour = rnd.nextInt(5);
            if (flavour == 0) {
                b.ignoreEos(true);
            } else if (flavour == 1) {
                b.stopTokenIds(Set.of(7, 11));
            } else if (flavour == 2) {
                b.minTokens(rnd.nextInt(4)).maxTokens(4 + rnd.nextInt(maxTokens));
            }
            reqs.add(new Req(i, prompt, b.build(), rnd.nextInt(3) == 0 ? 42 : rnd.nextLong(), 0));
        }
        return reqs;
    }

    static int[] randomTokens(Random rnd, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + rnd.nextInt(FakeModel.VOCAB - 1);
        }
        return t;
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}

package dev.ember.sampling;

/** Repetition, frequency and presence penalties, exactly as {@link Sampler} documents them. */
final class Penalties {
    private Penalties() {
    }

    /** Applies the penalties of {@code params} to {@code logits} in place. */
    static void apply(float[] logits, SamplingParams params, int[] tokenHistory, int numPromptTokens, int outputIndex) {
        boolean repetition = params.repetitionPenalty() != 1;
        boolean frequency = params.frequencyPenalty() != 0;
        boolean presence = params.presencePenalty() != 0;
        if (!repetition && !frequency && !presence) {
            return;
        }
        int vocab = logits.length;
        int end = numPromptTokens + outputIndex;
        // counts[t] = 1 + occurrences in the output for tokens seen anywhere, 0 for unseen ones
        int[] counts = new int[vocab];
        for (int i = 0; i < end; i++) {
            int t = tokenHistory[i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token history entry " + i + " is token id " + t
                        + ", outside the vocabulary [0, " + vocab + ")");
            }
            if (counts[t] == 0) {
                counts[t] = 1;
            }
            if (i >= numPromptTokens) {
                counts[t]++;
            }
        }
        float rp = (float) params.repetitionPenalty();
        float fp = (float) params.frequencyPenalty();
        float pp = (float) params.presencePenalty();
        for (int t = 0; t < vocab; t++) {
            if (counts[t] == 0) {
                continue;
            }
            float l = logits[t];
            if (repetition) {
                l = l > 0 ? l / rp : l * rp;
            }
            int inOutput = counts[t] - 1;
            if (inOutput > 0) {
                if (frequency) {
                    l = l - fp * inOutput;
                }
                if (presence) {
                    l = l - pp;
                }
            }
            logits[t] = l;
        }
    }
}

package dev.ember.sampling;

import dev.ember.guided.TokenMask;

import java.util.Arrays;
import java.util.Collection;

/**
 * Chooses the next token of one sequence from its raw float32 logits. These are the sampling semantics every
 * backend must reproduce (the CUDA sampler implements the same steps in the same float32 arithmetic; {@link FloatMath}'s
 * exp and log and fixed-point sums make the two agree bit for bit, and keep double arithmetic out of the loops over
 * the vocabulary):
 *
 * <ol>
 *   <li><b>Log-probabilities</b> are the log-softmax of the <em>raw</em> logits (before penalties, masking and
 *       temperature): {@code logprob_i = (l_i - max) - log(sum_j exp(l_j - max))}, exp in float32, the sum in fixed point
 *       ({@link FloatMath#mass}), its log and the subtraction in double (once per row).
 *       When {@code params.logprobs() > 0}: the chosen token's logprob and the top {@code params.logprobs()}
 *       tokens of the raw distribution (most likely first, ties by lower id); otherwise nothing reads them and
 *       neither is computed (the logprob is NaN), which saves a pass over the vocabulary per token.</li>
 *   <li><b>Penalties</b>, on a float32 copy of the logits, in this order:
 *       repetition penalty {@code rp} for every distinct token in prompt ∪ output:
 *       {@code l = l > 0 ? l / rp : l * rp};
 *       frequency penalty {@code fp} with {@code c} = occurrences of the token in the output:
 *       {@code l = l - fp * c}; presence penalty {@code pp}: {@code l = l - pp} where {@code c > 0}.
 *       ({@code rp}, {@code fp}, {@code pp} are rounded to float first; {@code fp * c} is a float product.)</li>
 *   <li><b>min_tokens</b>: while {@code outputIndex < params.minTokens()}, the model's EOS ids and
 *       {@code params.stopTokenIds()} (those inside the vocabulary) get {@code -inf} (not when a guided row's mask
 *       allows only EOS: its output is complete).</li>
 *   <li><b>Guided decoding</b>: a row with a {@link TokenMask} gets {@code -inf} on every token the mask does not
 *       allow; its log-probabilities (step 1) are then taken over the allowed tokens only.</li>
 *   <li><b>Greedy</b> ({@code temperature < 1e-5}, {@link SamplingParams#greedy()}): the argmax of the penalized logits, lowest id on ties;
 *       top-k, top-p and min-p do not apply. Otherwise {@code z_i = l_i / (float) temperature}, then
 *       <ul>
 *         <li>top-k ({@code 0 < k < vocab}): keep tokens with {@code z_i >= } the k-th largest z (ties may keep
 *             more than k);</li>
 *         <li>softmax over the kept tokens: {@code p_i = exp(z_i - zmax) / sum} in float32, the sum of the
 *             exp terms in fixed point and rounded to float;</li>
 *         <li>top-p ({@code top_p < 1}): order kept tokens by p descending, ties by lower id; keep the shortest
 *             prefix whose cumulative mass (fixed-point masses {@link FloatMath#mass} of the p, an exact integer sum)
 *             reaches {@code top_p} (at least one token);</li>
 *         <li>min-p ({@code min_p > 0}): drop kept tokens with {@code p_i < (float) min_p * pmax}, where
 *             {@code pmax} is the largest p (the probabilities are not renormalized in between: renormalizing
 *             changes neither this ratio test nor the draw below).</li>
 *       </ul></li>
 *   <li><b>Draw</b> by the Gumbel-max trick (the exponential race): among the kept tokens, the one with the
 *       largest {@code key_i = z_i - log(-log(u_i))}, with {@code u_i = Philox.uniform(seed, outputIndex, i)}
 *       (see {@link Philox}), in float32: {@code e = -log(u); key = z - log(e)} with {@link FloatMath#log}; ties go to the
 *       lowest id. Because {@code z_i = log p_i + const}, the token is distributed exactly as {@code p}, and it
 *       is a pure function of (seed, outputIndex, logits), whatever else shares the batch. (This sampler draws
 *       {@code u_i} only for tokens whose key could still win: the noise {@code -log(e)} is below
 *       {@link #MAX_GUMBEL_NOISE}, so a token with {@code z_i + MAX_GUMBEL_NOISE} below a key already found cannot
 *       be chosen; and since {@code e = -log(u) >= 1 - u}, nor can one with {@code z_i - log(1 - u_i)} below it,
 *       which spares the two exact logs of most draws. The result is the same token.)</li>
 * </ol>
 *
 * <p>Immutable and thread-safe; one instance per model (it holds the EOS ids).
 */
public final class Sampler {
    /**
     * The token of a row where penalties and min_tokens masked every token (-inf everywhere): there is nothing to
     * draw, and the request ends with an error rather than with an arbitrary token (the backends report it as
     * {@code StepOutput.NO_CANDIDATE}).
     */
    public static final int NO_CANDIDATE = -3;

    /**
     * Above the largest Gumbel noise {@code -log(-log(u))} of the draw: Philox's largest uniform, {@code 1 - 2^-24},
     * gives 16.64. Entries whose logit plus this bound (with a relative margin for rounding) falls short of a key
     * already drawn are not drawn.
     */
    static final double MAX_GUMBEL_NOISE = 17.0;

    private final int[] eosTokenIds;

    /** @param eosTokenIds the model's EOS ids ({@code ModelConfig.eosTokenIds()}), masked while below min_tokens */
    public Sampler(Collection<Integer> eosTokenIds) {
        this.eosTokenIds = eosTokenIds.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * Samples one token.
     *
     * @param logits          (vocab) raw logits of the sequence's last position; not modified
     * @param params          the request's sampling settings
     * @param seed            the request's effective seed
     * @param outputIndex     index of the token being sampled among the generated tokens (0 for the first)
     * @param tokenHistory    prompt then output tokens; entries {@code [0, numPromptTokens + outputIndex)} are read
     * @param numPromptTokens prompt length
     */
    public Sample sample(float[] logits, SamplingParams params, long seed, int outputIndex, int[] tokenHistory,
                         int numPromptTokens) {
        return sample(logits, params, seed, outputIndex, tokenHistory, numPromptTokens, null);
    }

    /**
     * Samples one token among those {@code mask} allows (all when null): the others get {@code -inf} after the
     * penalties, so greedy, top-k, top-p and min-p see only allowed tokens. Log-probabilities (of the sampled token
     * and the top ones) are those of the raw distribution restricted to the allowed tokens: the log-softmax of the
     * raw logits over the allowed set, so a guided output's summed logprob is the model's probability of that
     * path among the valid outputs (its confidence). When the mask allows only end-of-sequence ids ({@link TokenMask#endOnly()}), min_tokens does
     * not apply (the output is complete).
     */
    public Sample sample(float[] logits, SamplingParams params, long seed, int outputIndex, int[] tokenHistory,
                         int numPromptTokens, TokenMask mask) {
        int vocab = logits.length;
        if (vocab == 0) {
            throw new IllegalArgumentException("cannot sample from empty logits");
        }
        if (outputIndex < 0 || numPromptTokens < 0 || numPromptTokens + outputIndex > tokenHistory.length) {
            throw new IllegalArgumentException("token history of length " + tokenHistory.length + " cannot hold "
                    + numPromptTokens + " prompt and " + outputIndex + " output tokens");
        }
        if (!allFinite(logits)) {
            // no token drawn from such a row means anything; the blame belongs to the model, not to the masks
            throw new IllegalArgumentException("the logits hold NaN or infinite values: the model's output is not a"
                    + " distribution (non-finite weights, or an overflow in its arithmetic)");
        }
        float[] work = logits.clone();
        Penalties.apply(work, params, tokenHistory, numPromptTokens, outputIndex);
        if (outputIndex < params.minTokens() && (mask == null || !mask.endOnly())) {
            maskStopTokens(work, params);
        }
        if (mask != null) {
            applyMask(work, mask.bits());
        }
        int token = params.greedy() ? argmax(work) : draw(work, params, seed, outputIndex);
        if (token == NO_CANDIDATE || work[token] == Float.NEGATIVE_INFINITY) {
            return new Sample(NO_CANDIDATE, Float.NaN, null, null);
        }
        if (params.logprobs() == 0) {
            return new Sample(token, Float.NaN, null, null); // nobody reads a logprob not asked for
        }
        if (mask != null) {
            // a guided row's log-probabilities are of the distribution over the tokens it may take
            logits = logits.clone();
            applyMask(logits, mask.bits());
        }

        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        long sum = 0;
        for (float l : logits) {
            float d = l - max;
            if (d >= FloatMath.MASSLESS_BELOW) { // the rest add 0: most of a trained model's vocabulary
                sum += FloatMath.mass(FloatMath.exp(d));
            }
        }
        double logSum = Math.log(sum / (double) FloatMath.MASS_ONE);
        float logprob = (float) (logits[token] - (double) max - logSum);
        int[] topIds = topIndices(logits, Math.min(params.logprobs(), vocab));
        float[] topLogprobs = new float[topIds.length];
        for (int i = 0; i < topIds.length; i++) {
            topLogprobs[i] = (float) (logits[topIds[i]] - (double) max - logSum);
        }
        return new Sample(token, logprob, topIds, topLogprobs);
    }

    /** True when no logit is NaN or infinite; a backend checks this before {@link #sample} (see StepOutput.NON_FINITE). */
    public static boolean allFinite(float[] logits) {
        for (float l : logits) {
            if (!Float.isFinite(l)) {
                return false;
            }
        }
        return true;
    }

    /** Disallowed tokens (bit clear) get -inf; tokens past the mask's words too. */
    static void applyMask(float[] work, long[] bits) {
        for (int i = 0; i < work.length; i++) {
            int w = i >>> 6;
            if (w >= bits.length || (bits[w] & (1L << i)) == 0) {
                work[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    private void maskStopTokens(float[] work, SamplingParams params) {
        for (int id : eosTokenIds) {
            if (id < work.length) {
                work[id] = Float.NEGATIVE_INFINITY;
            }
        }
        for (int id : params.stopTokenIds()) {
            if (id < work.length) {
                work[id] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Temperature, top-k, softmax, top-p, min-p, then the Gumbel-max draw over what is kept. */
    private static int draw(float[] work, SamplingParams params, long seed, int outputIndex) {
        int vocab = work.length;
        float temperature = (float) params.temperature();
        float[] z = work; // scaled in place: work is already our own copy
        for (int i = 0; i < vocab; i++) {
            z[i] = z[i] / temperature;
        }
        boolean[] kept = new boolean[vocab];
        float threshold = Float.NEGATIVE_INFINITY;
        if (params.topK() > 0 && params.topK() < vocab) {
            float[] sorted = z.clone();
            Arrays.sort(sorted);
            threshold = sorted[vocab - params.topK()];
        }
        float zmax = Float.NEGATIVE_INFINITY;
        int top = -1;
        int numKept = 0;
        for (int i = 0; i < vocab; i++) {
            // a -inf logit (masked) is never a candidate, even without top-k
            if (z[i] >= threshold && z[i] != Float.NEGATIVE_INFINITY && !Float.isNaN(z[i])) {
                kept[i] = true;
                numKept++;
                if (top < 0 || z[i] > zmax) {
                    zmax = z[i];
                    top = i;
                }
            }
        }
        if (numKept == 0) {
            return NO_CANDIDATE;
        }
        if (params.topP() < 1 || params.minP() > 0) {
            float[] p = softmaxKept(z, kept, zmax);
            if (params.topP() < 1) {
                topP(p, kept, numKept, params.topP());
            }
            if (params.minP() > 0) {
                minP(p, kept, (float) params.minP());
            }
        }
        if (!kept[top]) {
            top = firstKept(kept); // top-p and min-p keep the most probable token; this is only a guard
        }
        // the most probable token's key first: most others then cannot reach it and are not drawn
        int best = top;
        Philox.Row draws = new Philox.Row(seed, outputIndex);
        float bestKey = gumbelKey(z[top], draws.uniform(top));
        for (int i = 0; i < vocab; i++) {
            double margin = Math.abs(z[i]) * 0x1p-20;
            if (!kept[i] || i == top || z[i] + MAX_GUMBEL_NOISE + margin < bestKey) {
                continue;
            }
            float u = draws.uniform(i);
            if (z[i] - Math.log(1 - u) + 1e-3 + margin < bestKey) {
                continue; // key <= z - log(1 - u) (class comment); the margin covers FloatMath.log's rounding
            }
            float key = gumbelKey(z[i], u);
            if (key > bestKey || (key == bestKey && i < best)) {
                best = i;
                bestKey = key;
            }
        }
        return best;
    }

    /** {@code z - log(-log(u))} in float32, as the class comment and the CUDA sampler compute it. */
    private static float gumbelKey(float z, float u) {
        float e = -FloatMath.log(u);
        return z - FloatMath.log(e);
    }

    private static int firstKept(boolean[] kept) {
        int i = 0;
        while (!kept[i]) {
            i++;
        }
        return i;
    }

    private static float[] softmaxKept(float[] z, boolean[] kept, float zmax) {
        float[] p = new float[z.length];
        long sum = 0;
        for (int i = 0; i < z.length; i++) {
            if (kept[i]) {
                p[i] = FloatMath.exp(z[i] - zmax);
                sum += FloatMath.mass(p[i]);
            }
        }
        float total = (float) sum * (1f / FloatMath.MASS_ONE);
        for (int i = 0; i < z.length; i++) {
            if (kept[i]) {
                p[i] = p[i] / total;
            }
        }
        return p;
    }

    private static void topP(float[] p, boolean[] kept, int numKept, double topP) {
        // sort keys: probability descending, then id ascending (p >= 0, so its float bits order like its value)
        long[] order = new long[numKept];
        int n = 0;
        for (int i = 0; i < p.length; i++) {
            if (kept[i]) {
                order[n++] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(p[i])) << 32) | i;
            }
        }
        Arrays.sort(order);
        long target = (long) (topP * FloatMath.MASS_ONE);
        long cumulative = 0;
        int keep = numKept;
        for (int r = 0; r < numKept; r++) {
            cumulative += FloatMath.mass(p[(int) order[r]]);
            if (cumulative >= target) {
                keep = r + 1;
                break;
            }
        }
        for (int r = keep; r < numKept; r++) {
            kept[(int) order[r]] = false;
        }
    }

    private static void minP(float[] p, boolean[] kept, float minP) {
        float pmax = 0;
        for (int i = 0; i < p.length; i++) {
            if (kept[i]) {
                pmax = Math.max(pmax, p[i]);
            }
        }
        float cutoff = minP * pmax;
        for (int i = 0; i < p.length; i++) {
            if (kept[i] && p[i] < cutoff) {
                kept[i] = false;
            }
        }
    }

    /** Index of the largest value, lowest index on ties. */
    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The n largest values' indices, largest first, ties by lower index. */
    static int[] topIndices(float[] values, int n) {
        int[] ids = new int[n];
        int size = 0;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            // scanning ids in ascending order, an equal value never outranks one already held
            if (size == n && !(v > values[ids[n - 1]])) {
                continue;
            }
            int pos = size < n ? size++ : n - 1;
            while (pos > 0 && v > values[ids[pos - 1]]) {
                ids[pos] = ids[pos - 1];
                pos--;
            }
            ids[pos] = i;
        }
        return ids;
    }
}

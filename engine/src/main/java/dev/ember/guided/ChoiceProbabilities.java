package dev.ember.guided;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * The probability of each choice of a {@code guided_choice} request, accumulated from the log-probabilities the
 * sampler already produces along the one generated path (no extra forward pass).
 *
 * <p>What is computed. Let {@code q_k} be the distribution of step k the sampler reports: the log-softmax of the
 * raw logits (temperature 1, no penalties) over the tokens the constraint allowed at that step. Under {@code q} the
 * output is a choice with probability 1 (the masks only allow completable outputs), and
 * {@code P(c) = sum over token paths spelling c of the product of q along the path} is the model's probability of
 * choice c among the valid outputs. Along the generated path {@code g_1..g_n}, with {@code reach_k} the product of
 * {@code q_j(g_j)} for j &lt; k, every other token t that step k reports (the request's top log-probabilities) carries
 * the mass {@code reach_k * q_k(t)} of all paths that leave the generated one there. When the bytes generated so
 * far plus t's bytes (for an EOS id: the bytes so far, ended) are compatible with exactly one choice, every such
 * path spells that choice, so the mass is that choice's, exactly. The generated path's own mass ({@code reach} after
 * its last token) goes to its choice when the output determines one. Mass of a branch compatible with several
 * choices (a token such as {@code "ne"} before {@code "negative"} and {@code "neutral"}), of allowed tokens outside
 * the reported top ones, and of an output that ended incomplete, is left unattributed: each value is then a lower
 * bound of {@code P(c)}, exact for a choice no such branch leads to, and {@code 1 - sum(values)} is the unattributed
 * mass (up to float rounding of the log-probabilities).
 *
 * <p>Not thread-safe: one per request, fed by the engine's step-loop thread in generation order.
 */
public final class ChoiceProbabilities {
    private final List<byte[]> choices = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final double[] mass;
    private final IntFunction<byte[]> tokenBytes;
    private final IntPredicate isEos;
    private final ByteArrayOutputStream prefix = new ByteArrayOutputStream();
    private double reach = 1;
    private boolean ended;

    /**
     * @param choices    the constraint's choices (duplicates count once)
     * @param tokenBytes the bytes a token id adds to the output (null for a special token)
     * @param isEos      whether an id ends the output
     */
    public ChoiceProbabilities(List<String> choices, IntFunction<byte[]> tokenBytes, IntPredicate isEos) {
        for (String c : choices) {
            if (!names.contains(c)) {
                names.add(c);
                this.choices.add(c.getBytes(StandardCharsets.UTF_8));
            }
        }
        this.mass = new double[names.size()];
        this.tokenBytes = tokenBytes;
        this.isEos = isEos;
    }

    /** For a request's compiled choice constraint: its choices and the vocabulary's bytes and EOS ids. */
    public static ChoiceProbabilities of(TokenIndex index) {
        return new ChoiceProbabilities(index.constraint().choices(), index::tokenBytes, index::isEos);
    }

    /**
     * Takes one generated step.
     *
     * @param token       the generated token
     * @param logprob     its log-probability under the step's masked distribution
     * @param topIds      the step's most likely allowed tokens (may include {@code token}; entries with a non-finite
     *                    log-probability are ignored)
     * @param topLogprobs their log-probabilities
     */
    public void step(int token, float logprob, int[] topIds, float[] topLogprobs) {
        if (ended) {
            return;
        }
        for (int i = 0; topIds != null && i < topIds.length; i++) {
            if (topIds[i] != token && Float.isFinite(topLogprobs[i])) {
                credit(after(topIds[i]), reach * Math.exp(topLogprobs[i]));
            }
        }
        reach *= Math.exp(logprob);
        if (isEos.test(token)) {
            ended = true;
            return;
        }
        byte[] b = tokenBytes.apply(token);
        if (b == null) {
            ended = true; // a token no choice spells (never allowed by a mask): nothing more can be attributed
            reach = 0;
            return;
        }
        prefix.writeBytes(b);
    }

    /** Choice to probability, in the constraint's order, once every step was taken. */
    public Map<String, Double> probabilities() {
        double[] out = mass.clone();
        int only = onlyCompatible(prefix.toByteArray(), ended);
        if (only >= 0) {
            out[only] += reach;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < out.length; i++) {
            m.put(names.get(i), out[i]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The index of the one choice the output could still be after {@code token}, or -1 (none or several). */
    private int after(int token) {
        if (isEos.test(token)) {
            return onlyCompatible(prefix.toByteArray(), true);
        }
        byte[] b = tokenBytes.apply(token);
        if (b == null) {
            return -1;
        }
        byte[] p = prefix.toByteArray();
        byte[] next = Arrays.copyOf(p, p.length + b.length);
        System.arraycopy(b, 0, next, p.length, b.length);
        return onlyCompatible(next, false);
    }

    private void credit(int choice, double p) {
        if (choice >= 0) {
            mass[choice] += p;
        }
    }

    /**
     * The one choice that {@code bytes} can still become ({@code ended}: that it is exactly), or -1 when none or
     * several can.
     */
    private int onlyCompatible(byte[] bytes, boolean ended) {
        int found = -1;
        for (int i = 0; i < choices.size(); i++) {
            byte[] c = choices.get(i);
            boolean ok = ended ? Arrays.equals(c, bytes)
                    : c.length >= bytes.length && Arrays.equals(c, 0, bytes.length, bytes, 0, bytes.length);
            if (ok) {
                if (found >= 0) {
                    return -1;
                }
                found = i;
            }
        }
        return found;
    }
}

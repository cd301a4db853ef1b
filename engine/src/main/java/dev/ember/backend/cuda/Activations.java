package dev.ember.backend.cuda;

import dev.ember.model.ModelConfig;
import dev.ember.weights.DType;

import java.util.ArrayList;
import java.util.List;

/**
 * The forward pass's scratch tensors, sized once for the largest step (maxTokens new tokens, maxSeqs
 * sequences), so no step allocates and captured graphs see stable addresses. Shapes (rows, width):
 * <pre>
 *   hidden (T, H) dtype       embedding / o_proj / down_proj outputs, the residual branch
 *   residual (T, H) float32   the residual stream
 *   normed (T, H) dtype       RMSNorm outputs, GEMM inputs
 *   qkv (T, qkvSize), q (T, nh*hd), attn (T, nh*hd), gateUp (T, 2I), act (T, I)   dtype
 *   last (S, H) dtype         gathered rows whose logits are computed
 *   logits, logitsWork (S, V) float32   raw logits, and a copy penalties modify
 *   partAcc (splits, nh*hd), partMl (splits, nh, 2) float32   decode attention split partials
 *   outputs                   sampled tokens, logprobs, top ids and top logprobs (S, 2 + 40) ints/floats
 * </pre>
 * Owns every buffer.
 */
final class Activations implements AutoCloseable {
    /** Most (sequence, split) pairs of one decode step, bounding the split partials. */
    static final int MAX_SPLIT_ROWS = 8192;

    final DeviceBuffer hidden;
    final DeviceBuffer residual;
    final DeviceBuffer normed;
    final DeviceBuffer qkv;
    final DeviceBuffer q;
    final DeviceBuffer attn;
    final DeviceBuffer gateUp;
    final DeviceBuffer act;
    final DeviceBuffer last;
    final DeviceBuffer logits;
    final DeviceBuffer logitsWork;
    final DeviceBuffer partAcc;
    final DeviceBuffer partMl;
    final DeviceBuffer outputs;
    final DeviceBuffer invFreq;
    private final List<DeviceBuffer> all = new ArrayList<>();

    Activations(ModelConfig c, DType dtype, int maxTokens, int maxSeqs, float[] invFreqValues) {
        int e = dtype.sizeBytes();
        long t = maxTokens;
        int attnWidth = c.numHeads() * c.headDim();
        try {
            hidden = add(t * c.hiddenSize() * e, "hidden");
            residual = add(t * c.hiddenSize() * 4, "residual");
            normed = add(t * c.hiddenSize() * e, "normed");
            qkv = add(t * c.qkvSize() * e, "qkv");
            q = add(t * attnWidth * e, "q");
            attn = add(t * attnWidth * e, "attention output");
            gateUp = add(t * 2L * c.intermediateSize() * e, "gate_up");
            act = add(t * c.intermediateSize() * e, "mlp activation");
            last = add((long) maxSeqs * c.hiddenSize() * e, "last hidden");
            logits = add((long) maxSeqs * c.vocabSize() * 4, "logits");
            logitsWork = add((long) maxSeqs * c.vocabSize() * 4, "penalized logits");
            partAcc = add((long) MAX_SPLIT_ROWS * attnWidth * 4, "attention split partials");
            partMl = add((long) MAX_SPLIT_ROWS * c.numHeads() * 2 * 4, "attention split maxima");
            outputs = add((long) maxSeqs * outputInts() * 4, "sampler outputs");
            invFreq = add(invFreqValues.length * 4L, "rope inverse frequencies");
            invFreq.upload(0, invFreqValues);
        } catch (RuntimeException ex) {
            close();
            throw ex;
        }
    }

    /** Ints per sequence in {@link #outputs}: token, logprob, 20 top ids, 20 top logprobs (regions of maxSeqs each). */
    static int outputInts() {
        return 2 + 2 * Kernels.MAX_TOP_LOGPROBS;
    }

    private DeviceBuffer add(long bytes, String label) {
        DeviceBuffer b = new DeviceBuffer(Math.max(bytes, 4), "activations: " + label);
        all.add(b);
        return b;
    }

    long sizeBytes() {
        long n = 0;
        for (DeviceBuffer b : all) {
            n += b.sizeBytes();
        }
        return n;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : all) {
            b.close();
        }
        all.clear();
    }
}

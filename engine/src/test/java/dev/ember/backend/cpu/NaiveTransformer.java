package dev.ember.backend.cpu;

import dev.ember.model.ModelConfig;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.TensorView;

/**
 * An independent reference: the whole token sequence from scratch, in double precision, plain loops, dense
 * causal attention, no paging and no cache. Shares nothing with {@link CpuOps} except reading
 * {@link TensorView#get}. RoPE follows Hugging Face's float32 definition (inverse frequency and angle rounded
 * to float), the one thing the reference must round the way the model does.
 */
final class NaiveTransformer {
    private final ModelConfig c;
    private final ModelWeights w;

    NaiveTransformer(ModelConfig config, ModelWeights weights) {
        this.c = config;
        this.w = weights;
    }

    /** Logits (vocab) of the last position of {@code tokens}. */
    double[] lastLogits(int[] tokens) {
        int n = tokens.length;
        int h = c.hiddenSize();
        double[][] x = new double[n][h];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < h; i++) {
                x[t][i] = w.embedTokens().get((long) tokens[t] * h + i);
            }
        }
        for (LayerWeights lw : w.layers()) {
            double[][] a = attention(lw, norm(x, lw.inputNorm()));
            add(x, a);
            double[][] m = mlp(lw, norm(x, lw.postAttnNorm()));
            add(x, m);
        }
        double[] last = norm(new double[][] {x[n - 1]}, w.finalNorm())[0];
        return linear(last, w.lmHead(), null);
    }

    private double[][] attention(LayerWeights lw, double[][] x) {
        int n = x.length;
        int hd = c.headDim();
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        double[][][] q = new double[n][][];
        double[][][] k = new double[n][][];
        double[][][] v = new double[n][][];
        for (int t = 0; t < n; t++) {
            q[t] = split(linear(x[t], lw.qProj(), lw.qBias()), heads, hd);
            k[t] = split(linear(x[t], lw.kProj(), lw.kBias()), kvHeads, hd);
            v[t] = split(linear(x[t], lw.vProj(), lw.vBias()), kvHeads, hd);
            for (int head = 0; head < heads; head++) {
                if (lw.qNorm() != null) {
                    q[t][head] = norm(new double[][] {q[t][head]}, lw.qNorm())[0];
                }
                rotate(q[t][head], t);
            }
            for (int head = 0; head < kvHeads; head++) {
                if (lw.kNorm() != null) {
                    k[t][head] = norm(new double[][] {k[t][head]}, lw.kNorm())[0];
                }
                rotate(k[t][head], t);
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] concat = new double[heads * hd];
            for (int head = 0; head < heads; head++) {
                int kvHead = head * kvHeads / heads;
                double[] scores = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += q[t][head][d] * k[s][kvHead][d];
                    }
                    scores[s] = dot / Math.sqrt(hd);
                    max = Math.max(max, scores[s]);
                }
                double total = 0;
                for (int s = 0; s <= t; s++) {
                    scores[s] = Math.exp(scores[s] - max);
                    total += scores[s];
                }
                for (int s = 0; s <= t; s++) {
                    for (int d = 0; d < hd; d++) {
                        concat[head * hd + d] += scores[s] / total * v[s][kvHead][d];
                    }
                }
            }
            out[t] = linear(concat, lw.oProj(), null);
        }
        return out;
    }

    private double[][] mlp(LayerWeights lw, double[][] x) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double[] gate = linear(x[t], lw.gateProj(), null);
            double[] up = linear(x[t], lw.upProj(), null);
            for (int i = 0; i < gate.length; i++) {
                gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            }
            out[t] = linear(gate, lw.downProj(), null);
        }
        return out;
    }

    /** HF rotate-half RoPE at position {@code pos}. */
    private void rotate(double[] x, int pos) {
        int half = x.length / 2;
        double[] y = new double[x.length];
        for (int i = 0; i < half; i++) {
            double inv = Math.pow(c.ropeTheta(), -2.0 * i / x.length);
            if (c.ropeScaling() != null) {
                inv = c.ropeScaling().scaleInvFreq(inv);
            }
            float angle = pos * (float) inv;
            y[i] = x[i] * Math.cos(angle) - x[i + half] * Math.sin(angle);
            y[i + half] = x[i + half] * Math.cos(angle) + x[i] * Math.sin(angle);
        }
        System.arraycopy(y, 0, x, 0, x.length);
    }

    private double[][] norm(double[][] x, TensorView weight) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double ms = 0;
            for (double value : x[t]) {
                ms += value * value;
            }
            double scale = 1 / Math.sqrt(ms / x[t].length + c.rmsNormEps());
            out[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = x[t][i] * scale * weight.get(i);
            }
        }
        return out;
    }

    private static double[] linear(double[] x, TensorView weight, TensorView bias) {
        int rows = (int) weight.shape()[0];
        int cols = (int) weight.shape()[1];
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = bias == null ? 0 : bias.get(r);
            for (int i = 0; i < cols; i++) {
                sum += x[i] * weight.get((long) r * cols + i);
            }
            y[r] = sum;
        }
        return y;
    }

    private static double[][] split(double[] x, int heads, int headDim) {
        double[][] out = new double[heads][headDim];
        for (int head = 0; head < heads; head++) {
            System.arraycopy(x, head * headDim, out[head], 0, headDim);
        }
        return out;
    }

    private static void add(double[][] x, double[][] delta) {
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < x[t].length; i++) {
                x[t][i] += delta[t][i];
            }
        }
    }
}

package dev.ember.backend.cpu;

import dev.ember.engine.Engine;
import dev.ember.model.ModelConfig;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorView;
import dev.ember.weights.WeightLoader;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;

/**
 * Not a test: the decode step's matmuls alone on a real checkpoint, against a plain read of the same weight bytes
 * (the memory ceiling as this JVM sees it). Run from the project root after {@code mvn -o -pl engine test-compile}:
 * {@code java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes:$(cat cp.txt)
 * dev.ember.backend.cpu.MatmulBench /tmp/q05 2 1,4,16 5}.
 */
public final class MatmulBench {
    private MatmulBench() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        String[] rowList = args[2].split(",");
        int reps = Integer.parseInt(args[3]);
        ModelConfig config = Engine.checkModel(model);
        ModelWeights weights = WeightLoader.load(config, SafetensorsCheckpoint.open(model));
        ForkJoinPool pool = new ForkJoinPool(threads, p -> {
            var t = new Scratch.Worker(p);
            t.setDaemon(true);
            return t;
        }, null, false);
        long bytes = 0;
        for (LayerWeights lw : weights.layers()) {
            for (TensorView t : new TensorView[] {lw.qProj(), lw.kProj(), lw.vProj(), lw.oProj(), lw.gateProj(),
                    lw.upProj(), lw.downProj()}) {
                bytes += t.sizeBytes();
            }
        }
        bytes += weights.lmHead().sizeBytes();
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            float s = readAll(weights, pool);
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "read all weights: %.1f ms, %.1f GB/s (%s)%n", sec * 1e3, bytes / sec / 1e9, s);
            for (String rs : rowList) {
                int rows = Integer.parseInt(rs);
                t0 = System.nanoTime();
                step(config, weights, pool, rows);
                sec = (System.nanoTime() - t0) / 1e9;
                double flops = 2.0 * rows * bytes / 2;
                System.out.printf(Locale.ROOT, "rows %3d: matmuls %.1f ms, %.1f GB/s, %.1f GFLOP/s%n", rows, sec * 1e3,
                        bytes / sec / 1e9, flops / sec / 1e9);
            }
        }
        pool.shutdownNow();
    }

    static void step(ModelConfig c, ModelWeights w, ForkJoinPool pool, int rows) {
        Kernels k = Simd.KERNELS;
        int hidden = c.hiddenSize();
        float[] x = new float[rows * hidden];
        java.util.Arrays.fill(x, 0.01f);
        for (LayerWeights lw : w.layers()) {
            float[] q = new float[rows * c.numHeads() * c.headDim()];
            float[] kk = new float[rows * c.numKvHeads() * c.headDim()];
            float[] v = new float[rows * c.numKvHeads() * c.headDim()];
            Matmul.runAll(k, x, rows, pool, new Matmul.Job(q, lw.qProj(), null), new Matmul.Job(kk, lw.kProj(), null),
                    new Matmul.Job(v, lw.vProj(), null));
            float[] o = new float[rows * hidden];
            Matmul.runAll(k, q, rows, pool, new Matmul.Job(o, lw.oProj(), null));
            float[] g = new float[rows * c.intermediateSize()];
            float[] u = new float[rows * c.intermediateSize()];
            Matmul.runAll(k, x, rows, pool, new Matmul.Job(g, lw.gateProj(), null), new Matmul.Job(u, lw.upProj(), null));
            float[] d = new float[rows * hidden];
            Matmul.runAll(k, g, rows, pool, new Matmul.Job(d, lw.downProj(), null));
        }
        float[] logits = new float[rows * c.vocabSize()];
        Matmul.runAll(k, x, rows, pool, new Matmul.Job(logits, w.lmHead(), null));
    }

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    /** Sums every weight's bits as ints straight from the mapped buffers, split over the pool by tensor halves. */
    static float readAll(ModelWeights w, ForkJoinPool pool) {
        java.util.List<TensorView> all = new java.util.ArrayList<>();
        for (LayerWeights lw : w.layers()) {
            all.addAll(java.util.List.of(lw.qProj(), lw.kProj(), lw.vProj(), lw.oProj(), lw.gateProj(), lw.upProj(),
                    lw.downProj()));
        }
        all.add(w.lmHead());
        float[] sums = new float[all.size() * 2];
        Parallel.forRange(pool, all.size() * 2, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                var buf = all.get(i / 2).bytes().order(ByteOrder.LITTLE_ENDIAN);
                int n = buf.capacity() / 2 / 64 * 64;
                int off = (i % 2) * n;
                IntVector acc = IntVector.zero(I);
                for (int p = off; p < off + n; p += 64) {
                    acc = acc.add(IntVector.fromByteBuffer(I, buf, p, ByteOrder.LITTLE_ENDIAN));
                }
                sums[i] = acc.reduceLanes(VectorOperators.ADD);
            }
        });
        float s = 0;
        for (float f : sums) {
            s += f;
        }
        return s;
    }
}

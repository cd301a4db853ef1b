package dev.ember.backend.cpu;

import dev.ember.engine.Engine;
import dev.ember.model.ModelConfig;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.TensorView;
import dev.ember.model.WeightLoader;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;

/**
 * Not a test: the machine's ceilings as this JVM reaches them and the CPU backend's matmuls against them
 * (docs/BENCHMARKS.md, issue 11). Run from the project root after {@code mvn -o -pl engine test-compile}, with
 * {@code CP=engine/target/classes:engine/target/test-classes:$(cat cp.txt)}:
 * <ul>
 *   <li>{@code java --add-modules jdk.incubator.vector -cp $CP dev.ember.backend.cpu.MatmulBench peak}: one core's
 *       vector FMA rate on registers only;</li>
 *   <li>{@code ... MatmulBench kernel 5}: the bf16 micro-kernels on a tile in cache, one thread;</li>
 *   <li>{@code ... MatmulBench /tmp/q05 2 1,16,1024 4}: a plain 2-thread read of all the checkpoint's matmul weights
 *       (the memory ceiling) and every matmul of one step at each row count, on 2 threads.</li>
 * </ul>
 */
public final class MatmulBench {
    private MatmulBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("kernel")) {
            kernels(Integer.parseInt(args[1]));
            return;
        }
        if (args[0].equals("peak")) {
            for (int rep = 0; rep < 5; rep++) {
                peak();
            }
            return;
        }
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
        // -Dember.cpu.gemm=java|onednn picks the matmuls the step runs (auto: oneDNN where it can run)
        OneDnnGemm gemm = OneDnnGemm.open(threads, Simd.KERNELS);
        Projections projections = new Projections(Simd.KERNELS, pool, gemm);
        System.out.println("step matmuls: " + projections.describe());
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            long c0 = processCpu();
            float s = readAll(weights, pool);
            double sec = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "read all weights: %.1f ms, %.1f GB/s, %.0f ms cpu (%s)%n", sec * 1e3,
                    bytes / sec / 1e9, (processCpu() - c0) / 1e6, s);
            for (String rs : rowList) {
                int rows = Integer.parseInt(rs);
                t0 = System.nanoTime();
                c0 = processCpu();
                step(config, weights, projections, rows);
                sec = (System.nanoTime() - t0) / 1e9;
                double cpu = (processCpu() - c0) / 1e9;
                double flops = 2.0 * rows * bytes / 2;
                System.out.printf(Locale.ROOT, "rows %4d: matmuls %.1f ms, %.1f GB/s, %.1f GFLOP/s; %.0f ms cpu, %.1f GFLOP"
                        + " per cpu s%n", rows, sec * 1e3, bytes / sec / 1e9, flops / sec / 1e9, cpu * 1e3, flops / cpu / 1e9);
            }
        }
        pool.shutdownNow();
        if (gemm != null) {
            gemm.close();
        }
    }


    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Twelve independent FMA chains on registers only: the core's vector FMA rate as this JVM reaches it. */
    static void peak() {
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        var F = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        var m = jdk.incubator.vector.FloatVector.broadcast(F, 0.999f);
        var b = jdk.incubator.vector.FloatVector.broadcast(F, 0.001f);
        var a0 = jdk.incubator.vector.FloatVector.broadcast(F, 1f);
        var a1 = a0.add(1f); var a2 = a0.add(2f); var a3 = a0.add(3f); var a4 = a0.add(4f); var a5 = a0.add(5f);
        var a6 = a0.add(6f); var a7 = a0.add(7f); var a8 = a0.add(8f); var a9 = a0.add(9f); var a10 = a0.add(10f);
        var a11 = a0.add(11f);
        long n = 20_000_000;
        long c0 = bean.getCurrentThreadCpuTime();
        for (long i = 0; i < n; i++) {
            a0 = a0.fma(m, b); a1 = a1.fma(m, b); a2 = a2.fma(m, b); a3 = a3.fma(m, b); a4 = a4.fma(m, b);
            a5 = a5.fma(m, b); a6 = a6.fma(m, b); a7 = a7.fma(m, b); a8 = a8.fma(m, b); a9 = a9.fma(m, b);
            a10 = a10.fma(m, b); a11 = a11.fma(m, b);
        }
        double cpu = (bean.getCurrentThreadCpuTime() - c0) / 1e9;
        float s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        System.out.printf(Locale.ROOT, "register FMAs: %.1f GFLOP per CPU s (%s)%n", 12.0 * 2 * F.length() * n / cpu / 1e9, s);
    }

    /** Single-thread micro-kernels on an in-cache tile: best GFLOP per thread CPU second over the repetitions. */
    static void kernels(int reps) {
        Kernels[] variants = {Simd.KERNELS};
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        int n = 16;
        for (int k : new int[] {896, 4864}) {
            for (int rows : new int[] {1, 4, 16, 52}) {
                float[] x = new float[rows * k];
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextDouble(-1, 1);
                }
                int[] w = new int[n * k / 2];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (rnd.nextInt() & 0x807f807f) | 0x3f003f00;
                }
                float[] out = new float[rows * n];
                double[] best = {0};
                for (int rep = 0; rep < reps; rep++) {
                    for (int v = 0; v < variants.length; v++) {
                        float[] xp = variants[v].packBf16Input(x, rows, k);
                        long iters = Math.max(1, 400_000_000L / (2L * rows * n * k));
                        long c0 = bean.getCurrentThreadCpuTime();
                        for (long it = 0; it < iters; it++) {
                            variants[v].bf16Tile(out, n, 0, xp, k, 0, rows, w, n);
                        }
                        double cpu = (bean.getCurrentThreadCpuTime() - c0) / 1e9;
                        best[v] = Math.max(best[v], 2.0 * rows * n * k * iters / cpu / 1e9);
                    }
                }
                System.out.printf(Locale.ROOT, "k %4d rows %3d: %.1f GFLOP per CPU s%n", k, rows, best[0]);
            }
        }
    }

    static void step(ModelConfig c, ModelWeights w, Projections p, int rows) {
        int hidden = c.hiddenSize();
        float[] x = new float[rows * hidden];
        java.util.Arrays.fill(x, 0.01f);
        for (LayerWeights lw : w.layers()) {
            float[] q = new float[rows * c.numHeads() * c.headDim()];
            float[] kk = new float[rows * c.numKvHeads() * c.headDim()];
            float[] v = new float[rows * c.numKvHeads() * c.headDim()];
            p.run(x, rows, new Matmul.Job(q, lw.qProj(), null), new Matmul.Job(kk, lw.kProj(), null),
                    new Matmul.Job(v, lw.vProj(), null));
            float[] o = new float[rows * hidden];
            p.run(q, rows, new Matmul.Job(o, lw.oProj(), null));
            float[] g = new float[rows * c.intermediateSize()];
            float[] u = new float[rows * c.intermediateSize()];
            p.run(x, rows, new Matmul.Job(g, lw.gateProj(), null), new Matmul.Job(u, lw.upProj(), null));
            float[] d = new float[rows * hidden];
            p.run(g, rows, new Matmul.Job(d, lw.downProj(), null));
        }
        float[] logits = new float[rows * c.vocabSize()];
        p.run(x, rows, new Matmul.Job(logits, w.lmHead(), null));
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

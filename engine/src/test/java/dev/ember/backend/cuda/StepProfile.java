package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import dev.ember.api.EngineConfig;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.sampling.SamplingParams;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.model.WeightLoader;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * A profiling tool, not part of the engine (it lives with the tests so the GPU-host bundle carries it): per-step
 * profile of the CUDA backend: one decode step of a large batch and one prefill step of many tokens,
 * with GPU time split into GEMMs, attention and other kernels (CUDA events between the ops of an eager pass),
 * the decode step's graph-replay time, the whole step() time (sampling and host work included) and the host
 * time to build and stage the step's inputs, each against what the card can do.
 *
 * <pre>
 *   StepProfile MODEL_DIR [decodeBatch=256] [decodeContext=600] [prefillSeqs=8] [prefillLen=1024]
 *               [peakTflops peakGBs]
 * </pre>
 * Floors use the ceilings measured on this card first ({@link Ceilings}: cuBLAS's large-GEMM rate and the device copy
 * bandwidth), as issue 8 asks; peakTflops and peakGBs replace them (e.g. a data sheet's 989 and 3,350 for an H100).
 * The KV cache holds garbage for the decode step (its timing does not depend on the values).
 */
public final class StepProfile {
    private StepProfile() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int decodeBatch = arg(args, 1, 256);
        int decodeContext = arg(args, 2, 600);
        int prefillSeqs = arg(args, 3, 8);
        int prefillLen = arg(args, 4, 1024);
        if (args.length == 6) {
            throw new IllegalArgumentException("peakTflops " + args[5] + " without peakGBs: give both peaks, or neither"
                    + " to measure them on this card");
        }
        int bs = 16;
        ModelConfig c = ModelConfigLoader.load(dir);
        int prefillTokens = prefillSeqs * prefillLen;
        EngineConfig engine = EngineConfig.builder(dir).device("cuda").maxNumSeqs(decodeBatch)
                .maxNumBatchedTokens(Math.max(prefillTokens, 4096)).maxModelLen(Math.max(prefillLen, decodeContext + 64))
                .build();
        int blocksNeeded = prefillSeqs * ((prefillLen + bs - 1) / bs) + decodeBatch * ((decodeContext + bs - 1) / bs);
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
             CudaBackend gpu = CudaBackend.open(c, WeightLoader.load(c, checkpoint), engine)) {
            gpu.allocateKvCache(bs, blocksNeeded + 16);
            System.out.println(gpu.description());
            Ceilings measured = Ceilings.measure(gpu.stream());
            System.out.println("measured ceilings: " + measured);
            double peakTflops = args.length > 6 ? Double.parseDouble(args[5]) : measured.tflops();
            double peakGBs = args.length > 6 ? Double.parseDouble(args[6]) : measured.gbs();
            gemmTable(gpu, c, peakTflops, peakGBs);
            long weightParams = (long) c.numLayers() * ((long) c.qkvSize() * c.hiddenSize()
                    + (long) c.numHeads() * c.headDim() * c.hiddenSize() + 3L * c.intermediateSize() * c.hiddenSize());
            long lmHead = (long) c.vocabSize() * c.hiddenSize();

            ForwardBatch prefill = batch(prefillSeqs, prefillLen, prefillLen, bs, 0);
            gpu.profileEager(prefill);
            Map<String, Double> p = gpu.profileEager(prefill);
            double gemmFlops = 2.0 * prefillTokens * weightParams + 2.0 * prefillSeqs * lmHead;
            double attnFlops = 4.0 * c.numLayers() * c.numHeads() * c.headDim() * prefillSeqs
                    * ((double) prefillLen * (prefillLen + 1) / 2);
            long[] hostNanos = timeHost(gpu, prefill);
            report("prefill " + prefillSeqs + " x " + prefillLen + " = " + prefillTokens + " tokens", p,
                    gemmFlops, attnFlops, 0, peakTflops, peakGBs, hostNanos);

            ForwardBatch decode = batch(decodeBatch, 1, decodeContext, bs, prefillSeqs * ((prefillLen + bs - 1) / bs));
            gpu.profileEager(decode);
            Map<String, Double> d = gpu.profileEager(decode);
            double decodeGemm = 2.0 * decodeBatch * (weightParams + lmHead);
            double kvBytes = 2.0 * c.numLayers() * decodeBatch * (double) decodeContext * c.numKvHeads() * c.headDim()
                    * (c.torchDtype().equals("float32") ? 4 : 2);
            report("decode batch " + decodeBatch + ", context " + decodeContext + " (eager)", d, decodeGemm, 0, kvBytes,
                    peakTflops, peakGBs, timeHost(gpu, decode));
            gpu.profileSampling(decode, 2);
            double sampleMs = gpu.profileSampling(decode, 20);
            double logitBytes = (double) decodeBatch * c.vocabSize() * 4;
            System.out.printf(Locale.ROOT, "sampling of %d rows (temperature 0.6): %.3f ms GPU; one read of the float32"
                    + " logits (%.0f MB) at %.0f GB/s takes %.3f ms (%.1fx that floor)%n", decodeBatch, sampleMs,
                    logitBytes / 1e6, peakGBs, logitBytes / (peakGBs * 1e6), sampleMs / (logitBytes / (peakGBs * 1e6)));
            gpu.forwardAndWait(decode); // capture the graph
            double graphMs = gpuMillis(gpu, () -> gpu.forwardAndWait(decode), 20);
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                gpu.step(decode);
            }
            double stepMs = (System.nanoTime() - t0) / 1e6 / 20;
            System.out.printf(Locale.ROOT, "decode step as a CUDA graph: %.3f ms GPU; whole step() with GPU sampling and"
                    + " host work: %.3f ms (%.0f tokens/s at this batch)%n", graphMs, stepMs, decodeBatch / stepMs * 1000);
        }
    }

    /**
     * The decode GEMMs of engine start's tuning (GemmPlans) against their floors: the weight, input and output bytes
     * at the copy bandwidth, or the FLOPs at the GEMM rate, whichever is longer. Each call read another layer's
     * weights (the L2 cache does not hold them between calls, as in a forward pass).
     */
    private static void gemmTable(CudaBackend gpu, ModelConfig c, double peakTflops, double peakGBs) {
        System.out.println("decode GEMMs (engine start's tuning; us per call; floor = max(bytes at " + peakGBs
                + " GB/s, FLOPs at " + peakTflops + " TFLOP/s)):");
        System.out.printf(Locale.ROOT, "  %5s %14s %9s %9s %9s %9s %9s %7s %7s %s%n", "rows", "out x in", "floor", "default",
                "lt first", "cluster", "tuned", "dflt", "tuned", "(of floor; chosen candidate)");
        int e = c.torchDtype().equals("float32") ? 4 : 2;
        java.util.TreeMap<Integer, double[]> perStep = new java.util.TreeMap<>();
        for (GemmPlans.Tuning t : gpu.gemmTunings()) {
            boolean logits = t.out() == c.vocabSize();
            double bytes = (double) t.out() * t.in() * e + (double) t.rows() * t.in() * e
                    + (double) t.rows() * t.out() * (logits ? 4 : e);
            double floor = Math.max(bytes / (peakGBs * 1e3), 2.0 * t.rows() * t.out() * t.in() / (peakTflops * 1e6));
            double tuned = t.runMicros();
            System.out.printf(Locale.ROOT, "  %5d %14s %9.2f %9.2f %9.2f %9.2f %9.2f %6.0f%% %6.0f%% %s%n", t.rows(),
                    t.out() + " x " + t.in(), floor, t.defaultMicros(), t.firstMicros(), t.clusterMicros(), tuned,
                    100 * floor / t.defaultMicros(), 100 * floor / tuned, t.chosen());
            int times = logits ? 1 : c.numLayers();
            double[] sum = perStep.computeIfAbsent(t.rows(), r -> new double[3]);
            sum[0] += times * floor;
            sum[1] += times * t.defaultMicros();
            sum[2] += times * tuned;
        }
        System.out.println("  a decode step's GEMMs (all layers + LM head): rows, floor, default, tuned (us)");
        perStep.forEach((rows, s) -> System.out.printf(Locale.ROOT, "  %5d %9.1f %9.1f (%3.0f%%) %9.1f (%3.0f%%)%n", rows,
                s[0], s[1], 100 * s[0] / s[1], s[2], 100 * s[0] / s[2]));
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }

    /** seqs sequences each adding queryLen tokens to reach context ctx, on contiguous blocks from firstBlock. */
    static ForwardBatch batch(int seqs, int queryLen, int ctx, int bs, int firstBlock) {
        int blocksPerSeq = (ctx + bs - 1) / bs;
        int t = seqs * queryLen;
        int[] ids = new int[t];
        int[] positions = new int[t];
        int[] slots = new int[t];
        int[] queryStart = new int[seqs + 1];
        int[] contextLens = new int[seqs];
        int[][] tables = new int[seqs][blocksPerSeq];
        boolean[] sample = new boolean[seqs];
        SamplingParams[] params = new SamplingParams[seqs];
        int[][] history = new int[seqs][ctx];
        int[] promptLens = new int[seqs];
        SamplingParams sp = SamplingParams.builder().temperature(0.6).maxTokens(4096).build();
        for (int s = 0; s < seqs; s++) {
            queryStart[s + 1] = (s + 1) * queryLen;
            contextLens[s] = ctx;
            for (int b = 0; b < blocksPerSeq; b++) {
                tables[s][b] = firstBlock + s * blocksPerSeq + b;
            }
            for (int k = 0; k < queryLen; k++) {
                int pos = ctx - queryLen + k;
                int tok = s * queryLen + k;
                ids[tok] = (s * 131 + pos * 17) % 10000;
                positions[tok] = pos;
                slots[tok] = tables[s][pos / bs] * bs + pos % bs;
            }
            sample[s] = true;
            params[s] = sp;
            promptLens[s] = ctx;
        }
        return new ForwardBatch(seqs, ids, positions, slots, queryStart, contextLens, tables, bs, sample, params,
                new long[seqs], new int[seqs], history, promptLens);
    }

    /** Host time of an eager pass: {input preparation, enqueue of every launch}, averaged over 5 passes. */
    private static long[] timeHost(CudaBackend gpu, ForwardBatch b) {
        long[] total = new long[2];
        for (int i = 0; i < 5; i++) {
            gpu.profileEager(b);
            long[] h = gpu.lastHostNanos();
            total[0] += h[0] / 5;
            total[1] += h[1] / 5;
        }
        return total;
    }

    private static double gpuMillis(CudaBackend gpu, Runnable r, int reps) {
        double total = 0;
        for (int i = 0; i < reps; i++) {
            total += Ceilings.millis(gpu.stream(), r);
        }
        return total / reps;
    }

    private static void report(String what, Map<String, Double> ms, double gemmFlops, double attnFlops, double attnBytes,
                               double peakTflops, double peakGBs, long[] hostNanos) {
        double total = ms.values().stream().mapToDouble(Double::doubleValue).sum();
        System.out.printf(Locale.ROOT, "%s: %.3f ms GPU (eager); host: inputs %.3f ms, enqueue of the launches %.3f ms%n",
                what, total, hostNanos[0] / 1e6, hostNanos[1] / 1e6);
        for (Map.Entry<String, Double> e : ms.entrySet()) {
            double t = e.getValue();
            String vs = "";
            if (e.getKey().equals("gemm")) {
                double tf = gemmFlops / (t / 1e3) / 1e12;
                vs = String.format(Locale.ROOT, "%.1f TFLOP/s = %.0f%% of %.0f", tf, 100 * tf / peakTflops, peakTflops);
            } else if (e.getKey().equals("attention") && attnFlops > 0) {
                double tf = attnFlops / (t / 1e3) / 1e12;
                vs = String.format(Locale.ROOT, "%.1f TFLOP/s = %.1f%% of %.0f (CUDA cores, not tensor cores)", tf,
                        100 * tf / peakTflops, peakTflops);
            } else if (e.getKey().equals("attention") && attnBytes > 0) {
                double gbs = attnBytes / (t / 1e3) / 1e9;
                vs = String.format(Locale.ROOT, "KV read %.0f GB/s = %.0f%% of %.0f", gbs, 100 * gbs / peakGBs, peakGBs);
            }
            System.out.printf(Locale.ROOT, "  %-10s %8.3f ms %5.1f%%  %s%n", e.getKey(), t, 100 * t / total, vs);
        }
        System.out.println("  (percentages: of the eager pass's GPU time)");
    }
}

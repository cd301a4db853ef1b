package dev.ember.backend.cuda;

import dev.ember.CudaException;
import dev.ember.weights.DType;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulAlgo_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * cuBLASLt matmuls whose algorithm was chosen by timing, one plan per exact shape (the decode batch buckets). At a
 * decode batch of up to 256 rows cuBLAS's default choice leaves much of the GPU idle for the narrow projections
 * (a 2,048 x 1,536 QKV matrix at 128 x 128 tiles is 32 CTAs for 132 SMs), and which split-K or stream-K variant
 * wins depends on the shape; so {@link #tune} times cuBLASLt's heuristic candidates on the real weights (a
 * different layer's matrix for each call, as a forward pass reads them, so the L2 cache does not flatter small
 * matrices) and keeps the fastest; Ember's own kernels compete in the same race: the skinny ones ({@link SkinnyGemm},
 * decode batches up to 64 rows) and on Hopper the split-K cluster ones ({@link ClusterGemm}, bf16, up to 256 rows;
 * {@code -Dember.cuda.clusterGemm=false} leaves them out). Prefill shapes are not tuned: large M runs near the GEMM rate with the
 * default.
 * Row-major {@code y (rows, out) = x (rows, in) · w (out, in)ᵀ} as {@link Cublas#linear}. Owns its handle, plans
 * and events. Not thread-safe; {@code close()} is idempotent.
 */
final class GemmPlans implements AutoCloseable {
    /**
     * How a shape's timing went: cuBLAS's default, cuBLASLt's first heuristic, the fastest candidate (µs), and which
     * candidate that was; the plan is kept only when that candidate beats the default by {@link #MARGIN}.
     * {@code clusterMicros}: the fastest {@link ClusterGemm} candidate, whether it won or not (NaN: none timed).
     */
    record Tuning(int rows, int out, int in, double defaultMicros, double firstMicros, double bestMicros, String chosen,
                  boolean replaced, double clusterMicros) {
        /** What a call of this shape now takes: the chosen candidate's time, or the default's. */
        double runMicros() {
            return replaced ? bestMicros : defaultMicros;
        }
    }

    private record Key(int rows, int out, int in, DType dtype, boolean floatOut) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(GemmPlans.class);
    private static final int MAX_CANDIDATES = 16;
    /** Weight bytes a timing reads: 2.5 times the 50 MB L2 cache of an H100 or H200 (a 3090's is 6 MB). */
    private static final long FLUSH_BYTES = 128L << 20;
    private static final int MAX_CALLS = 64;
    /**
     * How much faster than cuBLAS's default a candidate must time to replace it. The choice is made by timing at each
     * engine start, so a shape whose candidates are within noise of the default could flip between restarts (and
     * its rounding with it); a margin keeps those on the default, which cuBLAS picks the same way every time.
     */
    private static final double MARGIN = 0.03;

    private final cublasLtContext handle = new cublasLtContext();
    private final CUstream_st stream;
    private final CudaStream cudaStream;
    private final long workspace;
    private final long workspaceBytes;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final SkinnyGemm skinny;
    private final ClusterGemm cluster;
    private final Map<Key, Choice> plans = new HashMap<>();
    private boolean closed;

    /**
     * @param skinny  Ember's skinny kernels as candidates, or null
     * @param cluster Ember's split-K cluster kernels (Hopper) as candidates, or null
     */
    GemmPlans(CudaStream stream, long workspace, long workspaceBytes, SkinnyGemm skinny, ClusterGemm cluster) {
        this.skinny = skinny;
        this.cluster = cluster;
        check(cublas.cublasLtCreate(handle), "cublasLtCreate");
        this.cudaStream = stream;
        this.stream = new CUstream_st(new Cublas.Raw(stream.address()));
        this.workspace = workspace;
        this.workspaceBytes = workspaceBytes;
    }

    /** Runs the tuned plan of this exact shape and returns true, or returns false when the shape has none. */
    boolean run(long y, long x, long w, int rows, int out, int in, DType dtype, boolean floatOut) {
        Choice c = plans.get(new Key(rows, out, in, dtype, floatOut));
        if (c == null) {
            return false;
        }
        c.run(y, x, w);
        return true;
    }

    /**
     * Times cuBLASLt's candidates (and the skinny kernels') for one shape and keeps the fastest as that shape's plan.
     * Must not run while a graph is being captured (it synchronizes the stream). Every candidate writes {@code y}.
     *
     * @param weights    the matrices of this shape, one per layer: call i reads {@code weights[i % length]}
     * @param iterations the fewest calls a timing makes; more when the matrices are small, so that the calls read
     *                   {@value #FLUSH_BYTES} bytes of weights and the L2 cache cannot flatter a candidate
     * @param dflt       cuBLAS's default algorithm on the same call, timed for comparison
     */
    Tuning tune(long y, long x, long[] weights, int rows, int out, int in, DType dtype, boolean floatOut, int iterations,
                Gemm dflt) {
        long matrixBytes = (long) out * in * dtype.sizeBytes();
        int calls = (int) Math.min(MAX_CALLS, Math.max(iterations, (FLUSH_BYTES + matrixBytes - 1) / matrixBytes));
        return tune(y, x, weights, rows, out, in, dtype, floatOut, dflt, calls);
    }

    private Tuning tune(long y, long x, long[] weights, int rows, int out, int in, DType dtype, boolean floatOut,
                        Gemm dflt, int iterations) {
        Key key = new Key(rows, out, in, dtype, floatOut);
        Plan p = new Plan(key);
        try {
            cublasLtMatmulHeuristicResult_t results = new cublasLtMatmulHeuristicResult_t(MAX_CANDIDATES);
            int[] found = new int[1];
            check(cublas.cublasLtMatmulAlgoGetHeuristic(handle, p.desc, p.a, p.b, p.c, p.c, p.preference, MAX_CANDIDATES,
                    results, found), "cublasLtMatmulAlgoGetHeuristic" + shape(key));
            if (found[0] == 0) {
                throw new CudaException("cuBLASLt offers no algorithm for" + shape(key));
            }
            double defaultMicros = time(iterations, i -> dflt.run(y, x, weights[i % weights.length]));
            double first = 0;
            double best = Double.MAX_VALUE;
            int bestIndex = -1;
            for (int a = 0; a < found[0]; a++) {
                cublasLtMatmulHeuristicResult_t r = results.getPointer(a);
                if (r.state() != cublas.CUBLAS_STATUS_SUCCESS || r.workspaceSize() > workspaceBytes) {
                    continue;
                }
                cublasLtMatmulAlgo_t algo = r.algo();
                double t = time(iterations, i -> p.run(y, x, weights[i % weights.length], algo));
                if (a == 0) {
                    first = t;
                }
                if (t < best) {
                    best = t;
                    bestIndex = a;
                }
            }
            String chosen = "cuBLASLt #" + bestIndex + " of " + found[0];
            Choice bestOwn = null;  // one of Ember's kernels, when it beat every cuBLASLt candidate
            if (skinny != null) {
                for (SkinnyGemm.Variant v : SkinnyGemm.candidates(rows, out, in, dtype)) {
                    Choice c = (yy, xx, ww) -> skinny.run(v, yy, xx, ww, rows, out, in, dtype, floatOut);
                    double t = time(iterations, i -> c.run(y, x, weights[i % weights.length]));
                    if (t < best) {
                        best = t;
                        bestOwn = c;
                        chosen = v.toString();
                    }
                }
            }
            double clusterBest = Double.NaN;
            if (cluster != null && !floatOut) {
                for (ClusterGemm.Variant v : ClusterGemm.candidates(rows, out, in, dtype, cluster.multiprocessors())) {
                    Choice c = (yy, xx, ww) -> cluster.run(v, yy, xx, ww, rows, out, in);
                    double t;
                    try {
                        t = time(iterations, i -> c.run(y, x, weights[i % weights.length]));
                    } catch (CudaException e) {
                        // a cluster the GPU cannot place (its SMs' shared memory, a partitioned GPU): not a candidate
                        LOG.warn("gemm_cluster {} left out of the race for{}: {}", v, shape(key), e.getMessage());
                        continue;
                    }
                    clusterBest = Double.isNaN(clusterBest) ? t : Math.min(clusterBest, t);
                    if (t < best) {
                        best = t;
                        bestOwn = c;
                        chosen = v.toString();
                    }
                }
            }
            Choice old = plans.remove(key);
            if (old != null) {
                old.close();
            }
            boolean replaced = best <= defaultMicros * (1 - MARGIN);
            if (!replaced) {
                chosen = "cuBLAS default";
                p.close();  // linear() falls back to cuBLAS's default choice
            } else if (bestOwn != null) {
                plans.put(key, bestOwn);
                p.close();
            } else {
                Pointer.memcpy(p.algo, results.getPointer(bestIndex).algo(), p.algo.sizeof());
                plans.put(key, p);
            }
            results.close();
            return new Tuning(rows, out, in, defaultMicros, first, best, chosen, replaced, clusterBest);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    int size() {
        return plans.size();
    }

    /** One GEMM call on a given weight matrix (for timing). */
    interface Gemm {
        void run(long y, long x, long w);
    }

    private interface Call {
        void run(int i);
    }

    /**
     * Mean microseconds of one call, timed as a decode step runs it: {@code iterations} calls captured into a CUDA
     * graph, replayed once untimed and once timed. Timing eager launches instead would measure the host: a small
     * GEMM's launch through JNI takes longer than the GPU's work, and the graphs never pay it.
     */
    private double time(int iterations, Call call) {
        CUgraph graph = new CUgraph();
        Cuda.check(JCudaDriver.cuStreamBeginCapture(cudaStream.handle(),
                CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        try {
            for (int i = 0; i < iterations; i++) {
                call.run(i);
            }
        } catch (RuntimeException e) {
            JCudaDriver.cuStreamEndCapture(cudaStream.handle(), new CUgraph());
            throw e;
        }
        Cuda.check(JCudaDriver.cuStreamEndCapture(cudaStream.handle(), graph), "cuStreamEndCapture");
        CUgraphExec exec = new CUgraphExec();
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        try {
            Cuda.check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate(GEMM timing)");
            Cuda.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
            Cuda.check(JCudaDriver.cuEventCreate(end, 0), "cuEventCreate");
            Cuda.check(JCudaDriver.cuGraphLaunch(exec, cudaStream.handle()), "cuGraphLaunch");
            Cuda.check(JCudaDriver.cuEventRecord(start, cudaStream.handle()), "cuEventRecord");
            Cuda.check(JCudaDriver.cuGraphLaunch(exec, cudaStream.handle()), "cuGraphLaunch");
            Cuda.check(JCudaDriver.cuEventRecord(end, cudaStream.handle()), "cuEventRecord");
            Cuda.check(JCudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
            float[] ms = new float[1];
            Cuda.check(JCudaDriver.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime");
            return ms[0] * 1000.0 / iterations;
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(end);
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(graph);
        }
    }

    private static String shape(Key k) {
        return " (" + k.rows + "x" + k.in + " · " + k.out + "x" + k.in + "ᵀ, " + k.dtype + (k.floatOut ? " -> f32" : "")
                + ")";
    }

    /** How one tuned shape runs. */
    private interface Choice extends AutoCloseable {
        void run(long y, long x, long w);

        @Override
        default void close() {
        }
    }

    /** The descriptors of one shape and its chosen cuBLASLt algorithm. */
    private final class Plan implements Choice {
        final Key key;
        final cublasLtMatmulDescOpaque_t desc;
        final cublasLtMatrixLayoutOpaque_t a;
        final cublasLtMatrixLayoutOpaque_t b;
        final cublasLtMatrixLayoutOpaque_t c;
        final cublasLtMatmulPreferenceOpaque_t preference;
        final cublasLtMatmulAlgo_t algo = new cublasLtMatmulAlgo_t();

        Plan(Key k) {
            this.key = k;
            int type = Cublas.cudaType(k.dtype);
            // column-major as Cublas.linear: y^T (out, rows) = op_T(w^T (in, out)) · x^T (in, rows)
            desc = new cublasLtMatmulDescOpaque_t(create(pp -> cublas.cublasLtMatmulDescCreate(pp,
                    cublas.CUBLAS_COMPUTE_32F, cudart.CUDA_R_32F), "cublasLtMatmulDescCreate"));
            try (IntPointer t = new IntPointer(1)) {
                t.put(cublas.CUBLAS_OP_T);
                check(cublas.cublasLtMatmulDescSetAttribute(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSA, t, 4), "TRANSA");
                t.put(cublas.CUBLAS_OP_N);
                check(cublas.cublasLtMatmulDescSetAttribute(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSB, t, 4), "TRANSB");
            }
            a = layout(type, k.in, k.out);
            b = layout(type, k.in, k.rows);
            c = layout(k.floatOut ? cudart.CUDA_R_32F : type, k.out, k.rows);
            preference = new cublasLtMatmulPreferenceOpaque_t(create(cublas::cublasLtMatmulPreferenceCreate,
                    "cublasLtMatmulPreferenceCreate"));
            try (LongPointer ws = new LongPointer(1)) {
                ws.put(workspaceBytes);
                check(cublas.cublasLtMatmulPreferenceSetAttribute(preference,
                        cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8), "MAX_WORKSPACE_BYTES");
            }
        }

        @Override
        public void run(long y, long x, long w) {
            run(y, x, w, algo);
        }

        void run(long y, long x, long w, cublasLtMatmulAlgo_t with) {
            check(cublas.cublasLtMatmul(handle, desc, one, new Cublas.Raw(w), a, new Cublas.Raw(x), b, zero, new Cublas.Raw(y), c, new Cublas.Raw(y), c,
                    with, new Cublas.Raw(workspace), workspaceBytes, stream), "cublasLtMatmul" + shape(key));
        }

        private static cublasLtMatrixLayoutOpaque_t layout(int type, long rows, long cols) {
            return new cublasLtMatrixLayoutOpaque_t(create(pp -> cublas.cublasLtMatrixLayoutCreate(pp, type, rows, cols,
                    rows), "cublasLtMatrixLayoutCreate"));
        }

        @Override
        public void close() {
            cublas.cublasLtMatmulDescDestroy(desc);
            cublas.cublasLtMatrixLayoutDestroy(a);
            cublas.cublasLtMatrixLayoutDestroy(b);
            cublas.cublasLtMatrixLayoutDestroy(c);
            cublas.cublasLtMatmulPreferenceDestroy(preference);
            algo.close();
        }
    }

    private interface Create {
        int run(PointerPointer<?> out);
    }

    private static Pointer create(Create create, String call) {
        try (PointerPointer<?> pp = new PointerPointer<>(1)) {
            check(create.run(pp), call);
            return pp.get(0);
        }
    }

    private static void check(int status, String call) {
        Cublas.check(status, call);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (Choice c : plans.values()) {
                c.close();
            }
            plans.clear();
            cublas.cublasLtDestroy(handle);
            one.close();
            zero.close();
        }
    }
}

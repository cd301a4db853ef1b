package dev.ember.backend.cpu;

import dev.ember.weights.DType;
import dev.ember.weights.TensorView;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ba;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_get_effective_cpu_isa;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

/**
 * A step's matmuls on bf16 weights through oneDNN (Intel's library, as built by bytedeco), which reaches the
 * CPU's bf16 matrix instructions (AMX tiles, AVX-512 BF16 dot products) that Java's Vector API cannot: measured
 * ~1 TFLOP/s on the 2-core development machine against ~0.2 for float32 vector FMAs (docs/BENCHMARKS.md).
 *
 * <p><b>Float32 accuracy from bf16 instructions.</b> bf16 keeps 8 significant bits and float32 24, so every input
 * x is split into three bf16 parts {@code hi + mid + lo} that sum to x exactly (each part the rounded remainder of
 * the one before). Each product of a part and a bf16 weight is exact in float32 and the instructions accumulate in
 * float32, so the three GEMMs summed give {@code x W^T} with float32 accumulation, as the Java tiles do (measured
 * max error 1.1e-6 against a double reference where a plain float loop has 8.8e-6). The parts are three rows of
 * one GEMM ({@code 3r, 3r + 1, 3r + 2} for input row r), so each weight byte is still read once per call; the
 * tripled tensor work is what the matrix units have to spare.
 *
 * <p>Weights are read in place from the mapped checkpoint (the plain (out, in) layout, no reordered copy), so a
 * bf16 model still takes two bytes a parameter. Primitives are compiled for fixed row counts (~1-3 ms on first use,
 * cached): rows are padded with zero parts to a multiple of {@link #ROW_QUANTUM}, so a few shapes serve a workload.
 * Never oneDNN's run-time row count: with it, oneDNN 3.11 gets 896 x 4,864 bf16 matmuls wrong (errors of order 1
 * in the last 64 of 3,432 rows; errors up to ~10 at 12-45 rows, most row counts), where the same shapes compiled
 * with fixed rows agree with a double reference.
 *
 * <p><b>Threads.</b> oneDNN runs on its own OpenMP threads: {@code OMP_NUM_THREADS} of them, or one per processor.
 * It is used only when that count equals the backend's {@code num_threads}, so an engine never takes more cores
 * than it was given (in Spark: set {@code spark.executorEnv.OMP_NUM_THREADS} to the executor's cores).
 *
 * <p>Not thread-safe: the engine's step thread calls it. {@link #close()} frees the native objects.
 */
final class OneDnnGemm implements AutoCloseable {
    /** System property choosing the CPU GEMM: {@code auto} (default), {@code java} or {@code onednn}. */
    static final String PROPERTY = "ember.cpu.gemm";
    private static final Logger LOG = LoggerFactory.getLogger(OneDnnGemm.class);
    /** Float32 products one native call may hold (3 rows per input row); bigger calls are cut by rows. */
    private static final long DST_BYTES = 64L << 20;
    /** Input rows are padded to a multiple of this (with zero parts) so that few primitives serve all row counts. */
    static final int ROW_QUANTUM = 16;
    /** Compiled primitives kept at most; past it the cache starts again (a workload uses a handful). */
    private static final int MAX_PRIMITIVES = 256;

    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    /** Per weight shape and padded row count. */
    private final Map<ShapeKey, Shape> shapes = new HashMap<>();
    /** The mapped weights each memory object points into, kept reachable while it lives. */
    private final Map<TensorView, WeightMemory> weights = new IdentityHashMap<>();
    private final Kernels kernels;
    private final long dstBytes;
    /** Input parts (3 rows per input row) on the heap, then natively; float32 products natively; both grown. */
    private short[] srcStage = new short[0];
    private ShortPointer src = new ShortPointer(0L);
    private FloatPointer dst = new FloatPointer(0L);
    private boolean closed;

    /**
     * @param kernels  the loops that split inputs into bf16 parts and sum their products
     * @param dstBytes float32 products one native call may hold (tests pass little, to cut calls by rows)
     */
    OneDnnGemm(Kernels kernels, long dstBytes) {
        this.kernels = kernels;
        this.dstBytes = dstBytes;
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating the CPU engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "creating a stream");
    }

    /**
     * The GEMM for a backend of {@code numThreads} workers, or null where the Java tiles run instead (said in one
     * log line): property {@value #PROPERTY} = {@code java}; oneDNN's native library missing or failing to load;
     * a CPU without bf16 instructions; or an OpenMP thread count other than {@code numThreads}.
     *
     * @throws IllegalArgumentException for an unknown property value, or {@code onednn} where it cannot run
     */
    static OneDnnGemm open(int numThreads, Kernels kernels) {
        String choice = System.getProperty(PROPERTY, "auto");
        if (!choice.equals("auto") && !choice.equals("java") && !choice.equals("onednn")) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + choice + " is not a CPU GEMM; use auto, java "
                    + "or onednn");
        }
        if (choice.equals("java")) {
            return null;
        }
        String reason = unavailable(numThreads, System.getenv("OMP_NUM_THREADS"),
                Runtime.getRuntime().availableProcessors());
        if (reason != null) {
            if (choice.equals("onednn")) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=onednn, but " + reason);
            }
            LOG.info("CPU matmuls: Java's Vector API tiles ({})", reason);
            return null;
        }
        OneDnnGemm gemm = new OneDnnGemm(kernels, DST_BYTES);
        LOG.info("CPU matmuls on bf16 weights: oneDNN (bf16 matrix instructions, float32-exact inputs), {} OpenMP "
                + "threads", numThreads);
        return gemm;
    }

    /** Whether {@value #PROPERTY} names oneDNN (then it runs for every model, or the backend fails to start). */
    static boolean requested() {
        return "onednn".equals(System.getProperty(PROPERTY));
    }

    /** Why oneDNN cannot serve a backend of {@code numThreads}; null when it can. */
    static String unavailable(int numThreads, String ompNumThreads, int processors) {
        try {
            int isa = dnnl_get_effective_cpu_isa();
            if ((isa & dnnl_cpu_isa_avx512_core_bf16) != dnnl_cpu_isa_avx512_core_bf16) {
                return "this CPU has no bf16 instructions (oneDNN ISA " + isa + ")";
            }
        } catch (LinkageError e) {
            return "oneDNN's native library did not load (" + e + ")";
        }
        return threadMismatch(numThreads, ompNumThreads, processors);
    }

    /**
     * Why oneDNN's OpenMP threads ({@code OMP_NUM_THREADS}, its first number, else one per processor: what
     * libgomp starts with) would not be {@code numThreads}; null when they would.
     */
    static String threadMismatch(int numThreads, String ompNumThreads, int processors) {
        int ompThreads = processors;
        if (ompNumThreads != null && !ompNumThreads.isBlank()) {
            try {
                ompThreads = Integer.parseInt(ompNumThreads.split(",")[0].trim());
            } catch (NumberFormatException e) {
                return "OMP_NUM_THREADS=" + ompNumThreads + " is not a thread count";
            }
        }
        if (ompThreads == numThreads) {
            return null;
        }
        return "oneDNN would run " + ompThreads + " OpenMP threads ("
                + (ompNumThreads == null ? "one per processor" : "OMP_NUM_THREADS") + ") where num_threads is "
                + numThreads + "; set OMP_NUM_THREADS=" + numThreads + " in the environment (Spark: "
                + "spark.executorEnv.OMP_NUM_THREADS) to use it";
    }

    /** Whether every job can run here: bf16 weights in one mapped buffer. */
    static boolean accepts(Matmul.Job... jobs) {
        for (Matmul.Job job : jobs) {
            TensorView w = job.weight();
            if (w.dtype() != DType.BF16 || w.shape().length != 2 || w.numChunks() != 1 || !w.bytes().isDirect()) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code out = x W^T (+ bias)} for each job over the same input rows {@code x} (rows, in); {@link #accepts}
     * must hold. The Java side (splitting the inputs, summing the parts' products: {@link Kernels#splitBf16},
     * {@link Kernels#sumParts}) is split over {@code pool}'s workers (null: the caller). A non-finite input gives
     * non-finite outputs in its row, as in the Java tiles (its parts are not exact then).
     */
    void runAll(float[] x, int rows, ForkJoinPool pool, Matmul.Job... jobs) {
        if (closed) {
            throw new IllegalStateException("the oneDNN GEMM is closed");
        }
        int in = Matmul.checkJobs(x, rows, jobs);
        if (rows == 0) {
            return;
        }
        int n = 3 * padded(rows) * in;
        if (srcStage.length < n) {
            srcStage = new short[n];
        }
        short[] parts = srcStage;
        Arrays.fill(parts, 3 * rows * in, n, (short) 0); // the padding rows' parts: zero products, never read back
        Parallel.forRange(pool, rows, rowsPerTask(in), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                kernels.splitBf16(x, r * in, parts, 3 * r * in, in);
            }
        });
        if (src.capacity() < n) {
            src.close();
            src = new ShortPointer((long) n);
        }
        src.position(0).put(parts, 0, n);
        for (Matmul.Job job : jobs) {
            run(job, rows, in, pool);
        }
    }

    /**
     * {@code rows} rounded up to a multiple of {@link #ROW_QUANTUM}, or {@code rows} itself below it: a decode step's
     * few rows cost as many primitives as there are batch sizes, while padding 4 rows to 16 measured slower.
     */
    static int padded(int rows) {
        return rows <= ROW_QUANTUM ? rows : (rows + ROW_QUANTUM - 1) / ROW_QUANTUM * ROW_QUANTUM;
    }

    /** Rows one worker task should take: about 64 K elements, fewer tasks than that are not worth a hand-off. */
    private static int rowsPerTask(int width) {
        return Math.max(1, (64 << 10) / (3 * width));
    }

    private void run(Matmul.Job job, int rows, int in, ForkJoinPool pool) {
        int out = Math.toIntExact(job.weight().shape()[0]);
        dnnl_memory weightMemory = weights.computeIfAbsent(job.weight(), WeightMemory::new).memory;
        float[] bias = job.bias() == null ? null : TensorRows.toFloats(job.bias());
        long fit = dstBytes / (3L * out * Float.BYTES) / ROW_QUANTUM * ROW_QUANTUM;
        int chunkRows = (int) Math.min(padded(rows), Math.max(ROW_QUANTUM, fit));
        long dstFloats = 3L * chunkRows * out;
        if (dst.capacity() < dstFloats) {
            dst.close();
            dst = new FloatPointer(dstFloats);
        }
        ByteBuffer products = dst.position(0).asByteBuffer().order(ByteOrder.nativeOrder());
        float[] y = job.out();
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int first = r0;
            int m = Math.min(chunkRows, rows - r0);
            shape(out, in, padded(m)).execute(stream, src.getPointer(3L * r0 * in), weightMemory, dst);
            Parallel.forRange(pool, m, rowsPerTask(out), (a, b) -> {
                for (int r = a; r < b; r++) {
                    kernels.sumParts(products, 3 * r * out * Float.BYTES, out, bias, y, (first + r) * out);
                }
            });
        }
    }

    /** The primitive for {@code 3 * paddedRows} part rows of an (out, in) weight, compiled on first use. */
    private Shape shape(int out, int in, int paddedRows) {
        ShapeKey key = new ShapeKey(out, in, paddedRows);
        Shape shape = shapes.get(key);
        if (shape == null) {
            if (shapes.size() >= MAX_PRIMITIVES) {
                shapes.values().forEach(Shape::close);
                shapes.clear();
            }
            shape = new Shape(key);
            shapes.put(key, shape);
        }
        return shape;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (WeightMemory w : weights.values()) {
            w.close();
        }
        weights.clear();
        for (Shape s : shapes.values()) {
            s.close();
        }
        shapes.clear();
        src.close();
        dst.close();
        dnnl_stream_destroy(stream);
        dnnl_engine_destroy(engine);
    }

    private static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed " + what + " (status " + status + ")");
        }
    }

    private static dnnl_memory_desc desc(long rows, long cols, int type, int tag) {
        dnnl_memory_desc d = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_tag(d, 2, new long[] {rows, cols}, type, tag), "describing a matrix");
        return d;
    }

    /** One weight's mapped bytes as a oneDNN memory object. */
    private final class WeightMemory {
        final ByteBuffer bytes;
        final dnnl_memory_desc desc;
        final dnnl_memory memory = new dnnl_memory();

        WeightMemory(TensorView weight) {
            this.bytes = weight.bytes();
            long[] shape = weight.shape();
            // the weight (out, in) row-major is the (in, out) matrix oneDNN multiplies by, in column-major order
            this.desc = desc(shape[1], shape[0], dnnl_bf16, dnnl_ba);
            check(dnnl_memory_create(memory, desc, engine, new Pointer(bytes)), "wrapping weight '" + weight.name()
                    + "'");
        }

        void close() {
            dnnl_memory_destroy(memory);
            dnnl_memory_desc_destroy(desc);
        }
    }

    /** An (out, in) weight over a padded number of input rows. */
    private record ShapeKey(int out, int in, int paddedRows) {
    }

    /** The matmul primitive of one {@link ShapeKey}: {@code 3 * paddedRows} part rows times the weight. */
    private final class Shape {
        final ShapeKey key;
        final dnnl_memory_desc srcDesc;
        final dnnl_memory_desc weightDesc;
        final dnnl_memory_desc dstDesc;
        final dnnl_primitive_desc pd = new dnnl_primitive_desc();
        final dnnl_primitive primitive = new dnnl_primitive();

        Shape(ShapeKey key) {
            this.key = key;
            int rows = 3 * key.paddedRows();
            this.srcDesc = desc(rows, key.in(), dnnl_bf16, dnnl_ab);
            this.weightDesc = desc(key.in(), key.out(), dnnl_bf16, dnnl_ba);
            this.dstDesc = desc(rows, key.out(), dnnl_f32, dnnl_ab);
            String what = rows + " x " + key.in() + " -> " + key.out() + " bf16 matmul";
            check(dnnl_matmul_primitive_desc_create(pd, engine, srcDesc, weightDesc, null, dstDesc, null),
                    "planning a " + what);
            check(dnnl_primitive_create(primitive, pd), "compiling a " + what);
        }

        /** dst = src x weight over this shape's rows, waiting for the result. */
        void execute(dnnl_stream stream, Pointer srcRows, dnnl_memory weight, FloatPointer dstRows) {
            dnnl_memory srcMemory = new dnnl_memory();
            dnnl_memory dstMemory = new dnnl_memory();
            try (dnnl_exec_arg_t args = new dnnl_exec_arg_t(3)) {
                check(dnnl_memory_create(srcMemory, srcDesc, engine, srcRows), "wrapping the inputs");
                check(dnnl_memory_create(dstMemory, dstDesc, engine, dstRows.position(0)), "wrapping the outputs");
                args.position(0).arg(DNNL_ARG_SRC).memory(srcMemory);
                args.position(1).arg(DNNL_ARG_WEIGHTS).memory(weight);
                args.position(2).arg(DNNL_ARG_DST).memory(dstMemory);
                check(dnnl_primitive_execute(primitive, stream, 3, args.position(0)), "running a matmul");
                check(dnnl_stream_wait(stream), "waiting for a matmul");
            } finally {
                dnnl_memory_destroy(srcMemory);
                dnnl_memory_destroy(dstMemory);
            }
        }

        void close() {
            dnnl_primitive_destroy(primitive);
            dnnl_primitive_desc_destroy(pd);
            dnnl_memory_desc_destroy(srcDesc);
            dnnl_memory_desc_destroy(weightDesc);
            dnnl_memory_desc_destroy(dstDesc);
        }
    }
}

package dev.ember.backend.cuda;

import dev.ember.CudaException;
import dev.ember.weights.DType;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * cuBLAS (CUDA 13, through org.bytedeco:cuda) on JCuda's device pointers and stream. JCuda's own cuBLAS
 * binding needs libcublas.so.12, so the GEMMs go through bytedeco's while everything else uses JCuda's driver
 * API; both meet in the device's primary context. Inputs in the compute dtype, float32 accumulation; float32
 * mode uses plain FP32 math (no TF32) so it can validate to 1e-5. A workspace of our own keeps cuBLAS from
 * allocating while a CUDA graph is being captured. Not thread-safe; {@code close()} is idempotent.
 */
final class Cublas implements AutoCloseable {
    static final long WORKSPACE_BYTES = 32L << 20;

    private final cublasContext handle = new cublasContext();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final DeviceBuffer workspace;
    private final GemmPlans plans;
    private boolean closed;

    Cublas(CudaStream stream) {
        this(stream, null);
    }

    Cublas(CudaStream stream, SkinnyGemm skinny) {
        this(stream, skinny, null);
    }

    /**
     * @param skinny  Ember's skinny decode GEMMs, raced against cuBLASLt when a shape is tuned; null: none
     * @param cluster Ember's split-K cluster GEMMs (sm_90a), raced the same way; null: none
     */
    Cublas(CudaStream stream, SkinnyGemm skinny, ClusterGemm cluster) {
        try {
            check(cublas.cublasCreate_v2(handle), "cublasCreate");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new CudaException("cuBLAS 13 could not be loaded (libcublas.so.13, libcublasLt.so.13 and libcudart.so.13"
                    + " must be on the loader path, e.g. LD_LIBRARY_PATH=/usr/local/cuda/lib64): " + e.getMessage(), e);
        }
        DeviceBuffer ws = null;
        GemmPlans lt = null;
        try {
            ws = new DeviceBuffer(WORKSPACE_BYTES, "cuBLAS workspace");
            check(cublas.cublasSetStream_v2(handle, new CUstream_st(new Raw(stream.address()))), "cublasSetStream");
            check(cublas.cublasSetWorkspace_v2(handle, new Raw(ws.address()), WORKSPACE_BYTES), "cublasSetWorkspace");
            check(cublas.cublasSetMathMode(handle, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
            lt = new GemmPlans(stream, ws.address(), WORKSPACE_BYTES, skinny, cluster);
        } catch (RuntimeException e) {
            cublas.cublasDestroy_v2(handle);
            if (ws != null) {
                ws.close();
            }
            throw e;
        }
        this.workspace = ws;
        this.plans = lt;
    }

    /**
     * Row-major {@code y (rows, out) = x (rows, in) · w (out, in)ᵀ}, the PyTorch Linear layout.
     *
     * @param dtype     type of x and w (and of y unless {@code floatOut})
     * @param floatOut  write y as float32 (the logits)
     */
    void linear(long y, long x, long w, int rows, int out, int in, DType dtype, boolean floatOut) {
        if (rows == 0 || plans.run(y, x, w, rows, out, in, dtype, floatOut)) {
            return;
        }
        defaultLinear(y, x, w, rows, out, in, dtype, floatOut);
    }

    /**
     * Chooses by timing the algorithm of this exact shape (see {@link GemmPlans}); {@link #linear} then uses it.
     * Synchronizes the stream: never while a graph is being captured. Float32 keeps cuBLAS's default (its GEMMs
     * are for validation, not speed).
     *
     * @param weights the matrices of this shape, one per layer, read in turn as a forward pass reads them
     */
    GemmPlans.Tuning tune(long y, long x, long[] weights, int rows, int out, int in, DType dtype, boolean floatOut,
                          int iterations) {
        return plans.tune(y, x, weights, rows, out, in, dtype, floatOut, iterations,
                (yy, xx, ww) -> defaultLinear(yy, xx, ww, rows, out, in, dtype, floatOut));
    }

    /** {@link #linear} with cuBLAS's default algorithm choice. */
    void defaultLinear(long y, long x, long w, int rows, int out, int in, DType dtype, boolean floatOut) {
        int type = cudaType(dtype);
        // cuBLAS is column-major: row-major y (rows, out) is y^T (out, rows) there, w (out, in) is w^T (in, out),
        // so y^T = op_T(w^T) · x^T with x^T (in, rows) as is
        check(cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, out, rows, in, one, new Raw(w), type, in,
                new Raw(x), type, in, zero, new Raw(y), floatOut ? cudart.CUDA_R_32F : type, out,
                cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx(" + rows + "x" + in + " · " + out + "x" + in + "ᵀ, " + dtype + ")");
    }

    static int cudaType(DType dtype) {
        return switch (dtype) {
            case F32 -> cudart.CUDA_R_32F;
            case BF16 -> cudart.CUDA_R_16BF;
            case F16 -> cudart.CUDA_R_16F;
        };
    }

    /** Throws when a cuBLAS or cuBLASLt call did not succeed, naming the call and the status. */
    static void check(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cublas.cublasGetStatusName(status).getString());
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                plans.close();
                check(cublas.cublasDestroy_v2(handle), "cublasDestroy");
            } finally {
                one.close();
                zero.close();
                workspace.close();
            }
        }
    }

    /** A JavaCPP pointer at a raw address owned elsewhere (JCuda): never deallocated by JavaCPP. */
    static final class Raw extends Pointer {
        Raw(long address) {
            this.address = address;
        }
    }
}

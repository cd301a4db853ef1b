package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.Random;

import static dev.ember.backend.cuda.GpuTestSupport.assertElementsClose;
import static dev.ember.backend.cuda.GpuTestSupport.random;
import static dev.ember.backend.cuda.GpuTestSupport.round;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * gemm_swiglu (the sm_90a image) against a float64 reference on the host with silu_mul's rounding chain (gate and up
 * rounded to bf16, silu rounded, the product rounded): every compiled tile at rows that leave partial row blocks and
 * an inter that leaves a partial feature tile, then the tiles SwigluGemm picks from 1 to 256 rows, and the unfused
 * path (cuBLAS + silu_mul) on the same inputs. An element may differ from the reference by 2 bf16 steps (the float32
 * sums' order moves a rounding), no more. Runs on a compute capability 9 GPU with the sm_90a image; skipped by
 * assumption elsewhere, and with -Dember.cuda.fusedSwiglu=false.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwigluGemmGpuTest {
    /** 2 bf16 steps (see above). */
    private static final double RELATIVE = 2.0 / 128;
    private GpuTestSupport gpu;
    private KernelModule sm90a;

    @BeforeAll
    void open() {
        gpu = new GpuTestSupport();
        assumeTrue(gpu.device.computeMajor() == 9, "gemm_swiglu needs sm_90; this GPU is sm " + gpu.device.computeCapability());
        assumeTrue(SwigluGemm.enabled(), "-D" + SwigluGemm.PROPERTY + "=false");
        assertTrue(Sm90aImage.present(), Sm90aImage.FATBIN + " is missing: build the engine with nvcc 12+ on the PATH");
        sm90a = gpu.track(Sm90aImage.open());
    }

    @AfterAll
    void close() throws Exception {
        if (gpu != null) {
            gpu.close();
        }
    }

    /** Inputs of one shape: x (maxRows x hidden) and two layers' [gate | up] weights, bf16-exact floats. */
    private record Case(int hidden, int inter, float[] x, float[][] w, DeviceBuffer dx, long[] dw) {
        float[] reference(int layer, int rows) {
            float[] out = new float[rows * inter];
            for (int t = 0; t < rows; t++) {
                for (int f = 0; f < inter; f++) {
                    double g = 0;
                    double u = 0;
                    for (int k = 0; k < hidden; k++) {
                        g += (double) x[t * hidden + k] * w[layer][f * hidden + k];
                        u += (double) x[t * hidden + k] * w[layer][(inter + f) * hidden + k];
                    }
                    float gb = bf16((float) g);
                    float s = bf16((float) (gb / (1 + Math.exp(-gb))));
                    out[t * inter + f] = bf16(s * bf16((float) u));
                }
            }
            return out;
        }
    }

    private static float bf16(float v) {
        return DType.bf16ToFloat(DType.floatToBf16(v));
    }

    private Case upload(int hidden, int inter, int maxRows, long seed) {
        Random r = new Random(seed);
        float[] x = round(random(r, maxRows * hidden, 1f), DType.BF16);
        float[][] w = new float[2][];
        long[] dw = new long[2];
        for (int l = 0; l < 2; l++) {
            w[l] = round(random(r, 2 * inter * hidden, 0.08f), DType.BF16);
            dw[l] = gpu.upload(w[l], DType.BF16).address();
        }
        return new Case(hidden, inter, x, w, gpu.upload(x, DType.BF16), dw);
    }


    @Test
    void everyCompiledTileComputesSwigluOfTheGateAndUpProjections() {
        // inter 200: no tile width's features (24 to 128) divide it, so every grid ends in a partial feature tile
        Case c = upload(128, 200, 256, 7);
        SwigluGemm g = new SwigluGemm(sm90a, gpu.stream, gpu.device.multiprocessors(), c.hidden, c.inter, c.dw);
        for (int bm : TmaPipeline.BLOCK_ROWS) {
            for (int bn : SwigluGemm.WIDTHS) {
                if (!SwigluGemm.compiled(bm, bn)) {
                    continue;
                }
                for (int rows : new int[] {bm - 63, bm}) {  // one row past a 64-row slice; the whole block
                    int layer = rows % 2;
                    DeviceBuffer out = gpu.poisoned((long) rows * c.inter, DType.BF16);
                    g.run(out.address(), c.dx.address(), layer, rows, bm, bn);
                    assertElementsClose(c.reference(layer, rows), gpu.download(out, rows * c.inter, DType.BF16),
                            RELATIVE, SwigluGemm.kernel(bm, bn) + ", " + rows + " rows, layer " + layer);
                }
            }
        }
    }

    @Test
    void thePickedTilesMatchTheReferenceAndTheUnfusedPathFromOneTo256Rows() throws Exception {
        Case c = upload(256, 1024, 256, 11);
        SwigluGemm g = new SwigluGemm(sm90a, gpu.stream, gpu.device.multiprocessors(), c.hidden, c.inter, c.dw);
        Kernels kernels = gpu.kernels(DType.BF16);
        try (Cublas blas = new Cublas(gpu.stream, null)) {
            for (int rows : new int[] {1, 3, 64, 65, 100, 128, 160, 192, 230, 256}) {
                DeviceBuffer out = gpu.poisoned((long) rows * c.inter, DType.BF16);
                g.run(out.address(), c.dx.address(), 1, rows);
                float[] fused = gpu.download(out, rows * c.inter, DType.BF16);
                assertElementsClose(c.reference(1, rows), fused, RELATIVE, "picked tile, " + rows + " rows");

                DeviceBuffer gateUp = gpu.poisoned((long) rows * 2 * c.inter, DType.BF16);
                DeviceBuffer unfusedOut = gpu.poisoned((long) rows * c.inter, DType.BF16);
                blas.linear(gateUp.address(), c.dx.address(), c.dw[1], rows, 2 * c.inter, c.hidden, DType.BF16, false);
                kernels.siluMul(unfusedOut.address(), gateUp.address(), rows, c.inter);
                assertElementsClose(gpu.download(unfusedOut, rows * c.inter, DType.BF16), fused, RELATIVE,
                        "against cuBLAS + silu_mul, " + rows + " rows");
            }
        }
    }
}

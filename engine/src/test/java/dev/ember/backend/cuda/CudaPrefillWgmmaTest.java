package dev.ember.backend.cuda;

import dev.ember.backend.cpu.CpuOps;
import dev.ember.weights.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static dev.ember.backend.cuda.CudaKernelsTest.blockTables;
import static dev.ember.backend.cuda.CudaKernelsTest.prefillTiles;
import static dev.ember.backend.cuda.CudaKernelsTest.flatten;
import static dev.ember.backend.cuda.CudaKernelsTest.randomCache;
import static dev.ember.backend.cuda.GpuTestSupport.random;
import static dev.ember.backend.cuda.GpuTestSupport.relativeError;
import static dev.ember.backend.cuda.GpuTestSupport.round;
import static dev.ember.backend.cuda.GpuTestSupport.tolerance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * attn_prefill_wgmma64_hd128_bf16 (the sm_90a image) and attn_prefill_tc_hd128_bf16, each through
 * {@link Kernels#attnPrefill} on the same tiles (the wgmma kernel's 64-row ones), against the CPU backend's paged
 * attention, within the bfloat16 tolerance of CudaKernelsTest's prefill test. Runs on a compute capability 9 GPU
 * with a build that has the sm_90a image (nvcc with sm_90a); skipped by assumption elsewhere. On such a GPU a missing
 * image fails rather than skips, so a GPU run cannot pass without having run the kernel: set
 * -Dember.cuda.wgmmaPrefill=false to skip on purpose.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaPrefillWgmmaTest {
    private static final DType DTYPE = DType.BF16;
    private static final int HD = 128;
    private GpuTestSupport gpu;
    private KernelModule wgmmaModule;

    @BeforeAll
    void open() {
        gpu = new GpuTestSupport();
        assumeTrue(gpu.device.computeMajor() == 9, "the wgmma kernel needs sm_90; this GPU is sm "
                + gpu.device.computeCapability());
        assumeTrue(!"false".equals(System.getProperty(WgmmaPrefill.PROPERTY)), "-D" + WgmmaPrefill.PROPERTY + "=false");
        assertTrue(Sm90aImage.present(), Sm90aImage.FATBIN + " is missing: build the engine with nvcc 12+ on the PATH");
        assertEquals(WgmmaPrefill.Decision.LOAD, WgmmaPrefill.decide(gpu.device));
        wgmmaModule = gpu.track(Sm90aImage.open());
    }

    @AfterAll
    void close() throws Exception {
        if (gpu != null) {
            gpu.close();
        }
    }

    /**
     * seqs sequences of len new tokens after prior cached ones, nh query heads over nkv KV heads (G = nh / nkv),
     * blocks of bs tokens, shuffled. The wgmma kernel finds a key's page by shift and mask when bs is a power of two,
     * by division otherwise: both are here.
     */
    @ParameterizedTest(name = "{0} x {1} tokens after {2}, {3}/{4} heads, block size {5}")
    @CsvSource({
        "2, 300, 0, 12, 2, 16",    // two tiles' worth of keys and a ragged last tile, G = 6 (64 / 6 = 10 tokens a tile)
        "8, 1024, 0, 12, 2, 16",   // Qwen2-1.5B's 12 / 2 heads at a 1,024-token prefill
        "2, 300, 200, 12, 2, 16",  // a chunk after cached context: the diagonal is not at key 0
        "4, 1024, 0, 4, 2, 16",    // G = 2: 32 tokens a tile
        "3, 77, 500, 8, 8, 16",    // G = 1, short chunks after a long prefix
        "2, 300, 200, 12, 2, 24",  // a block size that is no power of two: the division path
        "3, 77, 500, 8, 8, 32",    // another power of two: a different shift
        "2, 150, 37, 12, 2, 1",    // one token a block: every key its own page
    })
    void wgmmaAndTensorCorePrefillMatchCpu(int seqs, int len, int prior, int nh, int nkv, int bs) {
        Random r = new Random(31L * seqs + len + prior + nh + bs);
        int group = nh / nkv;
        int[] queryStart = new int[seqs + 1];
        int[] ctx = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            queryStart[s + 1] = queryStart[s] + len;
            ctx[s] = prior + len;
        }
        int tokens = queryStart[seqs];
        int[] positions = new int[tokens];
        for (int s = 0; s < seqs; s++) {
            for (int t = queryStart[s]; t < queryStart[s + 1]; t++) {
                positions[t] = prior + (t - queryStart[s]);
            }
        }
        Kernels wgmma = new Kernels(gpu.module, wgmmaModule, gpu.stream, DTYPE);
        Kernels tc = gpu.kernels(DTYPE);
        // the wgmma kernel's tiles (64 rows); attn_prefill_tc takes tiles of up to 128 rows, so these too
        List<Integer> tiles = prefillTiles(queryStart, wgmma.prefillTileTokens(HD, group));
        assertEquals(WgmmaPrefill.ROWS / group, wgmma.prefillTileTokens(HD, group));
        assertEquals(Kernels.prefillTileTokens(DTYPE, group), tc.prefillTileTokens(HD, group));
        int[] numBlocks = new int[1];
        int[][] tables = blockTables(r, ctx, bs, numBlocks);
        int stride = (prior + len + bs - 1) / bs;
        CudaKernelsTest.Cache cache = randomCache(gpu, r, DTYPE, numBlocks[0], bs, nkv, HD);
        float[] q = round(random(r, tokens * nh * HD, 1f), DTYPE);
        float[] want = new float[tokens * nh * HD];
        CpuOps.pagedAttention(want, q, cache.cpuK(), cache.cpuV(), queryStart, positions, tables, bs, nh, nkv, HD,
                ForkJoinPool.commonPool());

        long qDev = gpu.upload(q, DTYPE).address();
        long tilesDev = gpu.uploadInts(tiles.stream().mapToInt(Integer::intValue).toArray()).address();
        long qsDev = gpu.uploadInts(queryStart).address();
        long ctxDev = gpu.uploadInts(ctx).address();
        long btDev = gpu.uploadInts(flatten(tables, stride)).address();
        assertEquals(WgmmaPrefill.KERNEL, wgmma.prefillKernel(HD));
        assertEquals("attn_prefill_tc_hd128_bf16", tc.prefillKernel(HD));
        for (Kernels k : new Kernels[] {wgmma, tc}) {
            DeviceBuffer out = gpu.poisoned((long) tokens * nh * HD, DTYPE);
            k.attnPrefill(out.address(), qDev, cache.gpuK().address(), cache.gpuV().address(), tilesDev, tiles.size() / 3,
                    qsDev, ctxDev, btDev, stride, nh, nkv, HD, bs, (float) (1 / Math.sqrt(HD)));
            double err = relativeError(gpu.download(out, want.length, DTYPE), want);
            assertTrue(err < tolerance(DTYPE), k.prefillKernel(HD) + " on " + seqs + " x " + len + " tokens after "
                    + prior + ", " + nh + "/" + nkv + " heads: relative error " + err + " >= " + tolerance(DTYPE));
        }
    }
}

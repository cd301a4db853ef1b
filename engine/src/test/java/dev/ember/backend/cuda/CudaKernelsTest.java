package dev.ember.backend.cuda;

import dev.ember.backend.cpu.CpuOps;
import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.ember.backend.cuda.GpuTestSupport.random;
import static dev.ember.backend.cuda.GpuTestSupport.relativeError;
import static dev.ember.backend.cuda.GpuTestSupport.round;
import static dev.ember.backend.cuda.GpuTestSupport.tolerance;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each CUDA kernel (and the cuBLAS linear) against the CPU backend's operation ({@link CpuOps}) on random
 * inputs: odd sizes, block boundaries, GQA ratios 1, 2, 6 and 8, head dims 64 and 128, float32 (relative error
 * under 1e-5) and bfloat16/float16 (under 1e-2). Outputs are poisoned first, so unwritten elements fail.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaKernelsTest {
    private GpuTestSupport gpu;

    @BeforeAll
    void open() {
        gpu = new GpuTestSupport();
    }

    @AfterAll
    void close() throws Exception {
        gpu.close();
    }

    private static void assertClose(String what, DType dtype, float[] got, float[] want) {
        double err = relativeError(got, want);
        assertTrue(err < tolerance(dtype), what + " (" + dtype + "): relative error " + err + " >= " + tolerance(dtype));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void embeddingAndRowGatherCopyRows(DType dtype) {
        Random r = new Random(1);
        int vocab = 1000;
        int hidden = 257;
        float[] table = round(random(r, vocab * hidden, 1f), dtype);
        int[] ids = r.ints(37, 0, vocab).toArray();
        DeviceBuffer out = gpu.poisoned((long) ids.length * hidden, dtype);
        // ids -(r + 1) name the previous step's sampled token of row r: the same rows come out
        int[] prev = new int[ids.length];
        int[] placeholders = ids.clone();
        for (int i = 0; i < ids.length; i += 3) {
            prev[i] = ids[i];
            placeholders[i] = -(i + 1);
        }
        gpu.kernels(dtype).embed(out.address(), gpu.upload(table, dtype).address(), gpu.uploadInts(placeholders).address(),
                gpu.uploadInts(prev).address(), ids.length, vocab, hidden);
        float[] want = new float[ids.length * hidden];
        CpuOps.embedding(want, ids, TensorView.ofFloats("table", new long[] {vocab, hidden}, table));
        assertArrayEquals(want, gpu.download(out, want.length, dtype));

        int[] rows = {5, 0, 36, 5};
        DeviceBuffer gathered = gpu.poisoned((long) rows.length * hidden, dtype);
        gpu.kernels(dtype).gatherRows(gathered.address(), out.address(), gpu.uploadInts(rows).address(), rows.length, hidden);
        float[] got = gpu.download(gathered, rows.length * hidden, dtype);
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < hidden; j++) {
                assertTrue(got[i * hidden + j] == want[rows[i] * hidden + j], "gathered row " + i + " element " + j);
            }
        }
    }

    static Stream<Arguments> dtypesAndWidths() {
        List<Arguments> list = new ArrayList<>();
        for (DType d : DType.values()) {
            for (int width : new int[] {1536, 1001, 8200}) { // vector path, scalar path (odd, too wide)
                list.add(Arguments.of(d, width));
            }
        }
        return list.stream();
    }

    @ParameterizedTest
    @MethodSource("dtypesAndWidths")
    void addRmsNormMatchesCpu(DType dtype, int hidden) {
        Random r = new Random(hidden);
        int rows = 7;
        float eps = 1e-6f;
        float[] residual = random(r, rows * hidden, 1f);
        float[] delta = round(random(r, rows * hidden, 1f), dtype);
        float[] weight = round(random(r, hidden, 0.2f), dtype);
        for (int i = 0; i < hidden; i++) {
            weight[i] = round(new float[] {1 + weight[i]}, dtype)[0];
        }
        TensorView w = TensorView.ofFloats("w", new long[] {hidden}, weight);
        for (boolean accumulate : new boolean[] {false, true}) {
            DeviceBuffer res = gpu.upload(residual, DType.F32);
            DeviceBuffer out = gpu.poisoned((long) rows * hidden, dtype);
            gpu.kernels(dtype).addRmsNorm(out.address(), res.address(), gpu.upload(delta, dtype).address(),
                    gpu.upload(weight, dtype).address(), eps, rows, hidden, accumulate);
            float[] wantResidual = accumulate ? residual.clone() : new float[rows * hidden];
            float[] want = new float[rows * hidden];
            CpuOps.addRmsnorm(want, wantResidual, delta, w, rows, eps);
            assertClose("add_rmsnorm out, accumulate=" + accumulate, dtype, gpu.download(out, want.length, dtype), want);
            assertClose("add_rmsnorm residual", DType.F32, gpu.download(res, want.length, DType.F32), wantResidual);
        }
    }

    static Stream<Arguments> dtypesAndIntermediates() {
        List<Arguments> list = new ArrayList<>();
        for (DType d : DType.values()) {
            for (int inter : new int[] {999, 8960, 2056}) { // the scalar path, then the 8-column vector path
                list.add(Arguments.of(d, inter));
            }
        }
        return list.stream();
    }

    @ParameterizedTest
    @MethodSource("dtypesAndIntermediates")
    void siluMulMatchesCpu(DType dtype, int inter) {
        Random r = new Random(3);
        int rows = 5;
        float[] gateUp = round(random(r, rows * 2 * inter, 2f), dtype);
        float[] gate = new float[rows * inter];
        float[] up = new float[rows * inter];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(gateUp, i * 2 * inter, gate, i * inter, inter);
            System.arraycopy(gateUp, i * 2 * inter + inter, up, i * inter, inter);
        }
        DeviceBuffer out = gpu.poisoned((long) rows * inter, dtype);
        gpu.kernels(dtype).siluMul(out.address(), gpu.upload(gateUp, dtype).address(), rows, inter);
        float[] want = new float[rows * inter];
        CpuOps.siluMul(want, gate, up, want.length);
        assertClose("silu_mul", dtype, gpu.download(out, want.length, dtype), want);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void linearMatchesCpuMatmul(DType dtype) {
        Random r = new Random(4);
        try (Cublas blas = new Cublas(gpu.stream)) {
            for (int rows : new int[] {1, 33}) {
                int out = 300;
                int in = 264;
                float[] x = round(random(r, rows * in, 1f), dtype);
                float[] w = round(random(r, out * in, 0.05f), dtype);
                float[] want = new float[rows * out];
                CpuOps.matmul(want, x, TensorView.ofFloats("w", new long[] {out, in}, w), null, rows, null);
                for (boolean floatOut : new boolean[] {false, true}) {
                    DType outType = floatOut ? DType.F32 : dtype;
                    DeviceBuffer y = gpu.poisoned((long) rows * out, outType);
                    blas.linear(y.address(), gpu.upload(x, dtype).address(), gpu.upload(w, dtype).address(), rows, out, in,
                            dtype, floatOut);
                    assertClose("linear rows=" + rows + " floatOut=" + floatOut, dtype, gpu.download(y, want.length, outType),
                            want);
                }
            }
        }
    }

    /**
     * Every skinny-GEMM variant on a shape it supports, against the CPU matmul: token counts that fill and that
     * leave padding in the last 8-row tile, an inner size that is not a multiple of the warps' stride, both outputs.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void skinnyGemmMatchesCpuMatmul(DType dtype) {
        Random r = new Random(5);
        SkinnyGemm skinny = new SkinnyGemm(gpu.module, gpu.stream);
        int out = 96;
        int in = 352;  // 11 chunks of 32: the warps' loop ends unevenly
        float[] w = round(random(r, out * in, 0.05f), dtype);
        DeviceBuffer wDev = gpu.upload(w, dtype);
        for (int rows : new int[] {1, 5, 8, 13, 32, 40, 64}) {
            float[] x = round(random(r, rows * in, 1f), dtype);
            DeviceBuffer xDev = gpu.upload(x, dtype);
            float[] want = new float[rows * out];
            CpuOps.matmul(want, x, TensorView.ofFloats("w", new long[] {out, in}, w), null, rows, null);
            List<SkinnyGemm.Variant> variants = SkinnyGemm.candidates(rows, out, in, dtype);
            assertTrue(variants.size() >= 2, "variants for " + rows + " rows: " + variants);
            for (SkinnyGemm.Variant v : variants) {
                for (boolean floatOut : new boolean[] {false, true}) {
                    DType outType = floatOut ? DType.F32 : dtype;
                    DeviceBuffer y = gpu.poisoned((long) rows * out, outType);
                    skinny.run(v, y.address(), xDev.address(), wDev.address(), rows, out, in, dtype, floatOut);
                    assertClose("skinny " + v + " rows=" + rows + " floatOut=" + floatOut, dtype,
                            gpu.download(y, want.length, outType), want);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> skinny.run(new SkinnyGemm.Variant(1, 1, 4), 0, 0, 0, 9, out,
                in, dtype, false), "9 rows need two token tiles");
        assertTrue(SkinnyGemm.candidates(65, out, in, dtype).isEmpty());
        assertTrue(SkinnyGemm.candidates(8, out, in + 16, dtype).isEmpty());
    }

    /** A tuned shape gives cuBLAS's result whichever candidate won the race (a skinny kernel or cuBLASLt's). */
    @Test
    void tunedLinearMatchesCpuMatmul() {
        DType dtype = DType.BF16;
        Random r = new Random(6);
        try (Cublas blas = new Cublas(gpu.stream, new SkinnyGemm(gpu.module, gpu.stream))) {
            for (int rows : new int[] {4, 24, 64, 96}) {
                int out = 512;
                int in = 1024;
                float[] x = round(random(r, rows * in, 1f), dtype);
                float[] w = round(random(r, out * in, 0.05f), dtype);
                float[] want = new float[rows * out];
                CpuOps.matmul(want, x, TensorView.ofFloats("w", new long[] {out, in}, w), null, rows, null);
                DeviceBuffer xDev = gpu.upload(x, dtype);
                DeviceBuffer wDev = gpu.upload(w, dtype);
                DeviceBuffer y = gpu.poisoned((long) rows * out, dtype);
                GemmPlans.Tuning t = blas.tune(y.address(), xDev.address(), new long[] {wDev.address()}, rows, out, in,
                        dtype, false, 4);
                assertTrue(t.bestMicros() > 0 && t.defaultMicros() > 0, t.toString());
                y = gpu.poisoned((long) rows * out, dtype);
                blas.linear(y.address(), xDev.address(), wDev.address(), rows, out, in, dtype, false);
                assertClose("tuned linear rows=" + rows + " (" + t.chosen() + ")", dtype, gpu.download(y, want.length,
                        dtype), want);
            }
        }
    }

    /** Model shapes: heads, KV heads, head dim, q/k/v bias (Qwen2), q/k norm (Qwen3), Llama-3 scaling. */
    static Stream<Arguments> ropeCases() {
        List<Arguments> list = new ArrayList<>();
        for (DType d : new DType[] {DType.F32, DType.BF16}) {
            list.add(Arguments.of(d, 12, 2, 128, true, false, false));
            list.add(Arguments.of(d, 16, 8, 128, false, true, false));
            list.add(Arguments.of(d, 32, 8, 64, false, false, true));
            list.add(Arguments.of(d, 4, 4, 64, true, true, false));
        }
        return list.stream();
    }

    @ParameterizedTest
    @MethodSource("ropeCases")
    void ropeStoreMatchesCpu(DType dtype, int nh, int nkv, int hd, boolean bias, boolean qkNorm, boolean llama3) {
        Random r = new Random(nh * 31 + hd);
        int tokens = 37;
        int bs = 16;
        int blocks = 8;
        float eps = 1e-6f;
        int width = (nh + 2 * nkv) * hd;
        float[] qkv = round(random(r, tokens * width, 1f), dtype);
        float[] b = bias ? round(random(r, width, 0.5f), dtype) : null;
        float[] qn = qkNorm ? round(random(r, hd, 1f), dtype) : null;
        float[] kn = qkNorm ? round(random(r, hd, 1f), dtype) : null;
        int[] positions = r.ints(tokens, 0, 5000).toArray();
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < blocks * bs; i++) {
            free.add(i);
        }
        Collections.shuffle(free, r);
        int[] slots = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            slots[t] = t == 3 ? -1 : free.get(t);
        }
        RopeScaling scaling = llama3 ? new RopeScaling(32, 1, 4, 8192) : null;
        double theta = llama3 ? 500000 : 1e6;
        float[] invFreq = CpuOps.ropeInvFreq(hd, theta, scaling);

        DeviceBuffer qOut = gpu.poisoned((long) tokens * nh * hd, dtype);
        DeviceBuffer kCache = gpu.poisoned((long) blocks * bs * nkv * hd, dtype);
        DeviceBuffer vCache = gpu.poisoned((long) blocks * bs * nkv * hd, dtype);
        gpu.kernels(dtype).ropeStore(qOut.address(), kCache.address(), vCache.address(), gpu.upload(qkv, dtype).address(),
                b == null ? 0 : gpu.upload(b, dtype).address(), qn == null ? 0 : gpu.upload(qn, dtype).address(),
                kn == null ? 0 : gpu.upload(kn, dtype).address(), gpu.uploadInts(positions).address(),
                gpu.uploadInts(slots).address(), gpu.upload(invFreq, DType.F32).address(), tokens, nh, nkv, hd, bs, eps);

        float[] q = new float[tokens * nh * hd];
        float[] k = new float[tokens * nkv * hd];
        float[] v = new float[tokens * nkv * hd];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < width; i++) {
                float x = qkv[t * width + i] + (b == null ? 0 : b[i]);
                if (i < nh * hd) {
                    q[t * nh * hd + i] = x;
                } else if (i < (nh + nkv) * hd) {
                    k[t * nkv * hd + i - nh * hd] = x;
                } else {
                    v[t * nkv * hd + i - (nh + nkv) * hd] = x;
                }
            }
        }
        if (qkNorm) {
            CpuOps.headRmsnorm(q, TensorView.ofFloats("qn", new long[] {hd}, qn), tokens, nh, eps);
            CpuOps.headRmsnorm(k, TensorView.ofFloats("kn", new long[] {hd}, kn), tokens, nkv, eps);
        }
        float[] cos = new float[tokens * hd / 2];
        float[] sin = new float[tokens * hd / 2];
        CpuOps.ropeCosSin(cos, sin, positions, invFreq);
        CpuOps.rope(q, cos, sin, tokens, nh, hd);
        CpuOps.rope(k, cos, sin, tokens, nkv, hd);
        assertClose("rope q", dtype, gpu.download(qOut, q.length, dtype), q);

        float[] gk = gpu.download(kCache, blocks * bs * nkv * hd, dtype);
        float[] gv = gpu.download(vCache, blocks * bs * nkv * hd, dtype);
        float[] wantK = new float[(tokens - 1) * nkv * hd];
        float[] gotKv = new float[wantK.length];
        float[] wantV = new float[wantK.length];
        float[] gotV = new float[wantK.length];
        int n = 0;
        for (int t = 0; t < tokens; t++) {
            if (slots[t] < 0) {
                continue;
            }
            int blk = slots[t] / bs;
            int off = slots[t] % bs;
            for (int h = 0; h < nkv; h++) {
                for (int d = 0; d < hd; d++) {
                    int g = ((blk * nkv + h) * bs + off) * hd + d;
                    wantK[n] = k[(t * nkv + h) * hd + d];
                    gotKv[n] = gk[g];
                    wantV[n] = v[(t * nkv + h) * hd + d];
                    gotV[n] = gv[g];
                    n++;
                }
            }
        }
        assertClose("rope k in cache", dtype, gotKv, wantK);
        assertClose("v in cache", dtype, gotV, wantV);
    }

    /** dtype, head dim, GQA ratio (16-bit dtypes run the tensor-core kernels, float32 the CUDA-core ones). */
    static Stream<Arguments> attentionCases() {
        List<Arguments> list = new ArrayList<>();
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int hd : new int[] {64, 128}) {
                for (int ratio : new int[] {1, 2, 6, 8}) {
                    if (d != DType.F16 || ratio == 2) {
                        list.add(Arguments.of(d, hd, ratio));
                    }
                }
            }
        }
        return list.stream();
    }

    /** A random paged cache in the CPU layout (blocks * bs, nkv * hd) and the same values in the GPU layout. */
    record Cache(float[] cpuK, float[] cpuV, DeviceBuffer gpuK, DeviceBuffer gpuV) {
    }

    static Cache randomCache(GpuTestSupport gpu, Random r, DType dtype, int blocks, int bs, int nkv, int hd) {
        float[] k = round(random(r, blocks * bs * nkv * hd, 1f), dtype);
        float[] v = round(random(r, blocks * bs * nkv * hd, 1f), dtype);
        float[] gk = new float[k.length];
        float[] gv = new float[v.length];
        for (int b = 0; b < blocks; b++) {
            for (int o = 0; o < bs; o++) {
                for (int h = 0; h < nkv; h++) {
                    for (int d = 0; d < hd; d++) {
                        int cpu = ((b * bs + o) * nkv + h) * hd + d;
                        int g = ((b * nkv + h) * bs + o) * hd + d;
                        gk[g] = k[cpu];
                        gv[g] = v[cpu];
                    }
                }
            }
        }
        return new Cache(k, v, gpu.upload(gk, dtype), gpu.upload(gv, dtype));
    }

    /**
     * The prefill kernels' tiles, (sequence, first token, tokens) with tileTokens at most, in token order. The backend
     * writes the same tiles longest first (PrefillTileOrder); a tile writes only its own rows, so any order must give
     * the same output, and token order keeps these tests independent of that class.
     */
    static List<Integer> prefillTiles(int[] queryStart, int tileTokens) {
        List<Integer> tiles = new ArrayList<>();
        for (int s = 0; s + 1 < queryStart.length; s++) {
            for (int t = queryStart[s]; t < queryStart[s + 1]; t += tileTokens) {
                tiles.add(s);
                tiles.add(t);
                tiles.add(Math.min(tileTokens, queryStart[s + 1] - t));
            }
        }
        return tiles;
    }

    /** Block tables over shuffled block ids, so no sequence's blocks are contiguous or in order. */
    static int[][] blockTables(Random r, int[] contextLens, int bs, int[] numBlocksOut) {
        int total = 3;
        for (int c : contextLens) {
            total += (c + bs - 1) / bs;
        }
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            ids.add(i);
        }
        Collections.shuffle(ids, r);
        int[][] tables = new int[contextLens.length][];
        int next = 0;
        for (int s = 0; s < contextLens.length; s++) {
            tables[s] = new int[(contextLens[s] + bs - 1) / bs];
            for (int i = 0; i < tables[s].length; i++) {
                tables[s][i] = ids.get(next++);
            }
        }
        numBlocksOut[0] = total;
        return tables;
    }

    static int[] flatten(int[][] tables, int stride) {
        int[] flat = new int[tables.length * stride];
        for (int s = 0; s < tables.length; s++) {
            System.arraycopy(tables[s], 0, flat, s * stride, tables[s].length);
        }
        return flat;
    }

    @ParameterizedTest
    @MethodSource("attentionCases")
    void prefillAttentionMatchesCpu(DType dtype, int hd, int ratio) {
        Random r = new Random(hd * 10 + ratio);
        int nkv = 2;
        int nh = nkv * ratio;
        int bs = 16;
        // (new tokens, context): single token, odd lengths, exact block boundaries, cached prefixes
        int[] qlens = {1, 17, 16, 33, 5, 40, 32, 100};
        int[] ctx = {1, 17, 40, 33, 100, 70, 32, 300};
        int seqs = qlens.length;
        int[] queryStart = new int[seqs + 1];
        for (int s = 0; s < seqs; s++) {
            queryStart[s + 1] = queryStart[s] + qlens[s];
        }
        int tokens = queryStart[seqs];
        int[] positions = new int[tokens];
        for (int s = 0; s < seqs; s++) {
            for (int t = queryStart[s]; t < queryStart[s + 1]; t++) {
                positions[t] = ctx[s] - qlens[s] + (t - queryStart[s]);
            }
        }
        List<Integer> tiles = prefillTiles(queryStart, Kernels.prefillTileTokens(dtype, ratio));
        int[] numBlocks = new int[1];
        int[][] tables = blockTables(r, ctx, bs, numBlocks);
        int stride = 0;
        for (int[] t : tables) {
            stride = Math.max(stride, t.length);
        }
        Cache cache = randomCache(gpu, r, dtype, numBlocks[0], bs, nkv, hd);
        float[] q = round(random(r, tokens * nh * hd, 1f), dtype);

        DeviceBuffer out = gpu.poisoned((long) tokens * nh * hd, dtype);
        gpu.kernels(dtype).attnPrefill(out.address(), gpu.upload(q, dtype).address(), cache.gpuK.address(),
                cache.gpuV.address(), gpu.uploadInts(tiles.stream().mapToInt(Integer::intValue).toArray()).address(),
                tiles.size() / 3, gpu.uploadInts(queryStart).address(), gpu.uploadInts(ctx).address(),
                gpu.uploadInts(flatten(tables, stride)).address(), stride, nh, nkv, hd, bs, (float) (1 / Math.sqrt(hd)));
        float[] want = new float[tokens * nh * hd];
        CpuOps.pagedAttention(want, q, cache.cpuK, cache.cpuV, queryStart, positions, tables, bs, nh, nkv, hd, null);
        assertClose("prefill attention " + dtype + " hd=" + hd + " ratio=" + ratio, dtype, gpu.download(out, want.length, dtype), want);
    }

    @ParameterizedTest
    @MethodSource("attentionCases")
    void decodeAttentionMatchesCpuForEverySplit(DType dtype, int hd, int ratio) {
        Random r = new Random(hd * 100 + ratio);
        int nkv = 2;
        int nh = nkv * ratio;
        int bs = 16;
        int[] ctx = {1, 15, 16, 17, 100, 513, 1500};
        int seqs = ctx.length;
        int[] queryStart = new int[seqs + 1];
        int[] positions = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            queryStart[s + 1] = s + 1;
            positions[s] = ctx[s] - 1;
        }
        int[] numBlocks = new int[1];
        int[][] tables = blockTables(r, ctx, bs, numBlocks);
        int stride = (1500 + bs - 1) / bs;
        Cache cache = randomCache(gpu, r, dtype, numBlocks[0], bs, nkv, hd);
        float[] q = round(random(r, seqs * nh * hd, 1f), dtype);
        float[] want = new float[seqs * nh * hd];
        CpuOps.pagedAttention(want, q, cache.cpuK, cache.cpuV, queryStart, positions, tables, bs, nh, nkv, hd, null);
        DeviceBuffer qd = gpu.upload(q, dtype);
        DeviceBuffer ctxd = gpu.uploadInts(ctx);
        DeviceBuffer bt = gpu.uploadInts(flatten(tables, stride));
        int maxPartition = Kernels.maxDecodePartition(dtype, ratio, hd);
        for (int partition : new int[] {64, 512, Math.min(2048, maxPartition)}) {
            int splits = (1500 + partition - 1) / partition;
            DeviceBuffer partAcc = gpu.poisoned((long) seqs * splits * nh * hd, DType.F32);
            DeviceBuffer partMl = gpu.poisoned((long) seqs * splits * nh * 2, DType.F32);
            DeviceBuffer out = gpu.poisoned((long) seqs * nh * hd, dtype);
            gpu.kernels(dtype).attnDecode(out.address(), partAcc.address(), partMl.address(), qd.address(),
                    cache.gpuK.address(), cache.gpuV.address(), ctxd.address(), bt.address(), stride, seqs, nh, nkv, hd, bs,
                    (float) (1 / Math.sqrt(hd)), partition, splits);
            assertClose("decode attention " + dtype + " hd=" + hd + " ratio=" + ratio + " partition=" + partition + " splits=" + splits,
                    dtype, gpu.download(out, want.length, dtype), want);
        }
    }

    /** dtype, head dim, heads, KV heads, q/k/v bias (Qwen2), q/k norm (Qwen3), Llama-3 scaled frequencies. */
    static Stream<Arguments> fusedRopeCases() {
        List<Arguments> list = new ArrayList<>();
        for (DType d : new DType[] {DType.BF16, DType.F16}) {
            for (int hd : new int[] {64, 128}) {
                list.add(Arguments.of(d, hd, 12, 2, true, false, false));
                list.add(Arguments.of(d, hd, 16, 2, false, true, false));
                list.add(Arguments.of(d, hd, 8, 8, false, false, true));
                list.add(Arguments.of(d, hd, 8, 4, true, true, true));
            }
        }
        return list.stream();
    }

    /**
     * The fused decode kernel (attn_decode_tc_rope: bias, q/k norm, RoPE and the K/V store inside decode attention)
     * against rope_store followed by the unfused decode kernel, from the same qkv rows and the same caches: the
     * attention output and both whole caches must be equal bit for bit, at split counts from one to one per 64 keys.
     * Contexts of 1, around block and tile ends, and longer; one sequence stores nothing (slot -1, so both read the
     * cache's old row) and one is a graph's padding row (context 0).
     */
    @ParameterizedTest
    @MethodSource("fusedRopeCases")
    void fusedDecodeRopeMatchesRopeStoreThenDecode(DType dtype, int hd, int nh, int nkv, boolean bias, boolean qkNorm,
                                                  boolean llama3) {
        Random r = new Random(hd * 1000 + nh * 10 + nkv + dtype.ordinal());
        int bs = 16;
        float eps = 1e-6f;
        int[] ctx = {1, 15, 16, 17, 64, 65, 100, 257, 513, 1500, 0, 700};
        int noStore = 6;
        int padding = 10;
        int seqs = ctx.length;
        int maxContext = 1500;
        int width = (nh + 2 * nkv) * hd;
        int[] numBlocks = new int[1];
        int[][] tables = blockTables(r, ctx, bs, numBlocks);
        int stride = (maxContext + bs - 1) / bs;
        int[] positions = new int[seqs];
        int[] slots = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            positions[s] = Math.max(0, ctx[s] - 1);
            slots[s] = s == noStore || s == padding ? -1 : tables[s][(ctx[s] - 1) / bs] * bs + (ctx[s] - 1) % bs;
        }
        float[] qkv = round(random(r, seqs * width, 1f), dtype);
        float[] b = bias ? round(random(r, width, 0.5f), dtype) : null;
        float[] qn = qkNorm ? round(random(r, hd, 1f), dtype) : null;
        float[] kn = qkNorm ? round(random(r, hd, 1f), dtype) : null;
        RopeScaling scaling = llama3 ? new RopeScaling(32, 1, 4, 8192) : null;
        float[] invFreq = CpuOps.ropeInvFreq(hd, llama3 ? 500000 : 1e6, scaling);
        int cacheElements = numBlocks[0] * bs * nkv * hd;
        float[] k0 = round(random(r, cacheElements, 1f), dtype);
        float[] v0 = round(random(r, cacheElements, 1f), dtype);

        DeviceBuffer qkvd = gpu.upload(qkv, dtype);
        long biasd = b == null ? 0 : gpu.upload(b, dtype).address();
        long qnd = qn == null ? 0 : gpu.upload(qn, dtype).address();
        long knd = kn == null ? 0 : gpu.upload(kn, dtype).address();
        DeviceBuffer posd = gpu.uploadInts(positions);
        DeviceBuffer slotd = gpu.uploadInts(slots);
        DeviceBuffer invd = gpu.upload(invFreq, DType.F32);
        DeviceBuffer ctxd = gpu.uploadInts(ctx);
        DeviceBuffer bt = gpu.uploadInts(flatten(tables, stride));
        float scale = (float) (1 / Math.sqrt(hd));
        Kernels kernels = gpu.kernels(dtype);
        for (int partition : new int[] {64, 192, 512, 2048}) {
            int splits = (maxContext + partition - 1) / partition;
            String what = dtype + " hd=" + hd + " heads " + nh + "/" + nkv + " bias=" + bias + " qkNorm=" + qkNorm
                    + " llama3=" + llama3 + " partition=" + partition + " splits=" + splits;

            DeviceBuffer wantK = gpu.upload(k0, dtype);
            DeviceBuffer wantV = gpu.upload(v0, dtype);
            DeviceBuffer q = gpu.poisoned((long) seqs * nh * hd, dtype);
            DeviceBuffer want = gpu.poisoned((long) seqs * nh * hd, dtype);
            kernels.ropeStore(q.address(), wantK.address(), wantV.address(), qkvd.address(), biasd, qnd, knd,
                    posd.address(), slotd.address(), invd.address(), seqs, nh, nkv, hd, bs, eps);
            kernels.attnDecode(want.address(), gpu.poisoned((long) seqs * splits * nh * hd, DType.F32).address(),
                    gpu.poisoned((long) seqs * splits * nh * 2, DType.F32).address(), q.address(), wantK.address(),
                    wantV.address(), ctxd.address(), bt.address(), stride, seqs, nh, nkv, hd, bs, scale, partition, splits);

            DeviceBuffer gotK = gpu.upload(k0, dtype);
            DeviceBuffer gotV = gpu.upload(v0, dtype);
            DeviceBuffer got = gpu.poisoned((long) seqs * nh * hd, dtype);
            kernels.attnDecodeRope(got.address(), gpu.poisoned((long) seqs * splits * nh * hd, DType.F32).address(),
                    gpu.poisoned((long) seqs * splits * nh * 2, DType.F32).address(), gotK.address(), gotV.address(),
                    qkvd.address(), biasd, qnd, knd, posd.address(), slotd.address(), invd.address(), ctxd.address(),
                    bt.address(), stride, seqs, nh, nkv, hd, bs, scale, partition, splits, eps);

            float[] wantOut = gpu.download(want, seqs * nh * hd, dtype);
            for (float x : wantOut) {
                assertTrue(Float.isFinite(x), "reference output written and finite: " + what);
            }
            assertBitsEqual("attention output, " + what, wantOut, gpu.download(got, seqs * nh * hd, dtype), nh * hd);
            float[] wk = gpu.download(wantK, cacheElements, dtype);
            assertBitsEqual("K cache, " + what, wk, gpu.download(gotK, cacheElements, dtype), bs * hd);
            assertBitsEqual("V cache, " + what, gpu.download(wantV, cacheElements, dtype),
                    gpu.download(gotV, cacheElements, dtype), bs * hd);
            // the step stored something (else equal caches would prove nothing about the fused store)
            int changed = 0;
            for (int i = 0; i < cacheElements; i++) {
                changed += Float.floatToRawIntBits(wk[i]) != Float.floatToRawIntBits(k0[i]) ? 1 : 0;
            }
            assertTrue(changed > (seqs - 2) * nkv * hd / 2, "rope_store wrote the new keys: " + changed + " elements, " + what);
        }
    }

    /** Equal bit patterns (the 16-bit values widen to floats one to one); names the first differing row and column. */
    private static void assertBitsEqual(String what, float[] want, float[] got, int rowWidth) {
        assertTrue(want.length == got.length, what + ": lengths " + want.length + " and " + got.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " (row " + i / rowWidth + ", column " + i % rowWidth
                        + ") is " + got[i] + ", rope_store + attn_decode_tc give " + want[i]);
            }
        }
    }
}

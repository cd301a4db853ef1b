package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which skinny-GEMM variants a shape may race (no GPU needed: the kernels themselves are in CudaKernelsTest). */
class SkinnyGemmTest {
    @Test
    void tokenTilesCoverTheRowsInPowersOfTwo() {
        assertEquals(1, SkinnyGemm.nTiles(1));
        assertEquals(1, SkinnyGemm.nTiles(8));
        assertEquals(2, SkinnyGemm.nTiles(9));
        assertEquals(4, SkinnyGemm.nTiles(17));
        assertEquals(4, SkinnyGemm.nTiles(32));
        assertEquals(8, SkinnyGemm.nTiles(33));
        assertEquals(8, SkinnyGemm.nTiles(64));
    }

    @Test
    void candidatesFitStaticSharedMemoryAndTheShape() {
        List<SkinnyGemm.Variant> qkv = SkinnyGemm.candidates(64, 2048, 1536, DType.BF16);
        assertFalse(qkv.isEmpty());
        for (SkinnyGemm.Variant v : qkv) {
            assertTrue(v.sharedBytes() <= 48 * 1024, v.toString());
            assertEquals(8, v.nTiles());
            assertTrue(v.warps() <= SkinnyGemm.maxWarps(v.mTiles(), v.nTiles()), v.toString());
        }
        // 16 output features but not 32: only one-tile CTAs
        assertTrue(SkinnyGemm.candidates(4, 48, 64, DType.F16).stream().allMatch(v -> v.mTiles() == 1));
        assertTrue(SkinnyGemm.candidates(4, 2048, 1536, DType.F32).isEmpty(), "float32 stays with cuBLAS");
        assertTrue(SkinnyGemm.candidates(65, 2048, 1536, DType.BF16).isEmpty(), "beyond 64 rows");
        assertTrue(SkinnyGemm.candidates(4, 2040, 1536, DType.BF16).isEmpty(), "out not a multiple of 16");
        assertTrue(SkinnyGemm.candidates(4, 2048, 1544, DType.BF16).isEmpty(), "in not a multiple of 32");
    }
}

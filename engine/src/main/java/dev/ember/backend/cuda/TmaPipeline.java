package dev.ember.backend.cuda;

import java.util.Arrays;

/**
 * The host's mirror of tma_gemm.cuh, the pipeline the sm_90a GEMMs share ({@link SwigluGemm}, {@link ClusterGemm}):
 * block heights, threads a block, ring stages. A block is a producer warpgroup and BM / 64 consumer row slices in one
 * (BM 64), two (128, and 256 as two slices each) or three (192) warpgroups; a stage holds BM rows of x and the tile's
 * weight rows, 64 K elements (128 bytes) each.
 */
final class TmaPipeline {
    /** Block heights: 64 x consumer warpgroups x m64 slices. */
    static final int[] BLOCK_ROWS = {64, 128, 192, 256};
    /** A block's dynamic shared memory on sm_90 (tg::SMEM_LIMIT). */
    static final int SHARED_LIMIT = 227 * 1024;

    private TmaPipeline() {
    }

    /** The block height for {@code rows} rows (1..256): the rows rounded up to 64, 128, 192 or 256. */
    static int blockRows(int rows) {
        return rows <= 64 ? 64 : rows <= 128 ? 128 : rows <= 192 ? 192 : 256;
    }

    static boolean isBlockRows(int blockRows) {
        return Arrays.stream(BLOCK_ROWS).anyMatch(b -> b == blockRows);
    }

    /**
     * Whether a block of this height can hold a tile this wide: a consumer thread's accumulators (MW x width / 2
     * floats) fit its registers, so 256-wide tiles only up to BM 128 (192: three warpgroups share the registers; 256:
     * two 64-row slices a thread). Both kernels compile exactly the widths they list that pass.
     */
    static boolean holds(int blockRows, int width) {
        return isBlockRows(blockRows) && (width != 256 || blockRows <= 128);
    }

    /** Threads a block of this height: the producer warpgroup and the consumers. */
    static int threads(int blockRows) {
        return switch (blockRows) {
            case 64 -> 256;
            case 192 -> 512;
            default -> 384;
        };
    }

    /** Bytes a stage: BM rows of x and {@code width} weight rows, 128 bytes each (tg::stage_bytes). */
    static int stageBytes(int blockRows, int width) {
        return (blockRows + width) * 128;
    }

    /** tg::stages: as many stages as fit (1 KiB to align the swizzle atoms, 16 bytes of mbarriers each), at most 8. */
    static int stages(int blockRows, int width) {
        return Math.min(8, (SHARED_LIMIT - 1024) / (stageBytes(blockRows, width) + 16));
    }
}

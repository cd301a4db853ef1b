package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ClusterGemm's choices, without a GPU: the race's candidates, launch shapes and the kernel list of the .cu file. */
class ClusterGemmTest {
    private static final ClusterGemm.Variant V256 = new ClusterGemm.Variant(256, 192, 8);

    @Test
    void candidatesFillTheSmsInOneWaveWithTheLeastBytesABlock() {
        // Qwen2-1.5B's down_proj (1,536 x 8,960) at 256 rows on 132 SMs: 96-wide tiles in clusters of 8 are 128
        // blocks; 96 x 4 (64 blocks) streams twice the bytes a block; nothing of more than 132 blocks
        List<ClusterGemm.Variant> down = ClusterGemm.candidates(256, 1536, 8960, DType.BF16, 132);
        assertEquals(List.of(new ClusterGemm.Variant(256, 96, 8), new ClusterGemm.Variant(256, 128, 8),
                new ClusterGemm.Variant(256, 192, 8), new ClusterGemm.Variant(256, 96, 4)), down);
        for (ClusterGemm.Variant v : down) {
            assertTrue(ClusterGemm.blocks(v, 256, 1536) <= 132, v + " takes one wave");
        }
        // the block height follows the rows; 256-wide tiles only up to 128
        assertTrue(ClusterGemm.candidates(100, 1536, 1536, DType.BF16, 132).stream().allMatch(v -> v.blockRows() == 128));
        assertTrue(ClusterGemm.candidates(1, 2048, 1536, DType.BF16, 132).contains(new ClusterGemm.Variant(64, 256, 8)));
        // o_proj of 1,536 x 1,536: 24 K steps; clusters of 8 leave each block 3 (at least 2 are asked)
        assertTrue(ClusterGemm.candidates(64, 1536, 1536, DType.BF16, 132).stream().allMatch(v -> 24 / v.split() >= 2));
        assertTrue(ClusterGemm.candidates(64, 1536, 512, DType.BF16, 132).stream().allMatch(v -> v.split() == 4),
                "8 K steps: clusters of 8 would leave each block one");
        // gate/up's 17,920 outputs make too many tiles for one wave: no candidate
        assertEquals(List.of(), ClusterGemm.candidates(256, 17920, 1536, DType.BF16, 132));
        assertEquals(List.of(), ClusterGemm.candidates(16, 1536, 1536, DType.F16, 132), "bfloat16 only");
        assertEquals(List.of(), ClusterGemm.candidates(257, 1536, 1536, DType.BF16, 132), "decode rows only");
    }

    @Test
    void shapesOutsideTheKernelsAreNotSupported() {
        assertTrue(ClusterGemm.supports(1, 8, 64, DType.BF16));
        assertFalse(ClusterGemm.supports(0, 1536, 1536, DType.BF16));
        assertFalse(ClusterGemm.supports(10, 1536, 1000, DType.BF16), "K in 64-wide steps");
        assertFalse(ClusterGemm.supports(10, 1540, 1536, DType.BF16), "outputs in 8s");
        assertFalse(ClusterGemm.supports(10, 1536, 1536, DType.F32));
        ClusterGemm g = new ClusterGemm(null, null, 132);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.run(new ClusterGemm.Variant(256, 256, 8), 0, 0, 0, 10, 1536, 1536));
        assertTrue(e.getMessage().contains("gemm_cluster cluster 256x256 s8 cannot run 10x1536"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.run(V256, 0, 0, 0, 10, 1536, 1000));
        assertThrows(IllegalArgumentException.class, () -> g.run(new ClusterGemm.Variant(256, 192, 2), 0, 0, 0, 10, 1536, 1536));
        e = assertThrows(IllegalArgumentException.class, () -> g.run(V256, 0x1000, 0x2008, 0x3000, 10, 1536, 1536));
        assertTrue(e.getMessage().contains("16-byte aligned operands; got y 0x1000, x 0x2008"), e.getMessage());
    }

    @Test
    void everyCompiledVariantFitsTheSharedMemoryOfABlock() {
        for (ClusterGemm.Variant v : compiledVariants()) {
            int bytes = ClusterGemm.sharedBytes(v);
            int stage = (v.blockRows() + v.width()) * 128;
            assertTrue(bytes <= 227 * 1024 && bytes >= 1024 + 3 * stage, v + ": " + bytes);
            assertTrue(bytes >= 1024 + v.blockRows() * (v.width() + 8) * 4, v + ": the partials fit");
            assertEquals(0, v.blockRows() % v.split(), v + ": each block reduces whole rows");
        }
        // 256 x 192: 4 stages of 57,344 bytes outgrow the 204,800 bytes of partials
        assertEquals(1024 + 4 * 57344 + 64, ClusterGemm.sharedBytes(V256));
    }

    @Test
    void theJavaListOfKernelsIsTheOneTheCudaFileCompiles() throws Exception {
        String cu = Files.readString(Path.of("src/main/cuda/gemm_cluster_wgmma.cu"));
        List<String> compiled = new ArrayList<>();
        Matcher widths = Pattern.compile("(?m)^EMBER_CLUSTER_WIDTHS\\((\\d+), \\d+, \\d+\\)").matcher(cu);
        while (widths.find()) {
            for (int bn : new int[] {96, 128, 192}) {
                for (int s : new int[] {4, 8}) {
                    compiled.add(ClusterGemm.kernel(new ClusterGemm.Variant(Integer.parseInt(widths.group(1)), bn, s)));
                }
            }
        }
        Matcher splits = Pattern.compile("EMBER_CLUSTER_SPLITS\\((\\d+), \\d+, \\d+, (\\d+)\\)").matcher(
                cu.substring(cu.lastIndexOf("EMBER_CLUSTER_WIDTHS(256")));
        while (splits.find()) {
            for (int s : new int[] {4, 8}) {
                compiled.add(ClusterGemm.kernel(new ClusterGemm.Variant(Integer.parseInt(splits.group(1)),
                        Integer.parseInt(splits.group(2)), s)));
            }
        }
        assertEquals(compiledVariants().stream().map(ClusterGemm::kernel).sorted().toList(),
                compiled.stream().sorted().toList());
    }

    @Test
    void theSwitchIsReadAsTheOthers() {
        SwitchAssertions.readAsTheOthers(ClusterGemm.PROPERTY, ClusterGemm::enabled, true);
    }

    static List<ClusterGemm.Variant> compiledVariants() {
        List<ClusterGemm.Variant> out = new ArrayList<>();
        for (int bm : TmaPipeline.BLOCK_ROWS) {
            for (int bn : ClusterGemm.WIDTHS) {
                for (int s : ClusterGemm.SPLITS) {
                    ClusterGemm.Variant v = new ClusterGemm.Variant(bm, bn, s);
                    if (ClusterGemm.compiled(v)) {
                        out.add(v);
                    }
                }
            }
        }
        return out;
    }
}

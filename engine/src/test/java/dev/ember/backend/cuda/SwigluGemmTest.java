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

/** SwigluGemm's choices, without a GPU: tiles, launch shapes and the kernel list it shares with the .cu file. */
class SwigluGemmTest {
    @Test
    void tileWidthGivesEachSmTheLeastWorkOnTheThreeCheckpoints() {
        // gemm_swiglu_bench's fastest widths on an H100 (132 SMs), 1 to 256 rows
        assertEquals(144, SwigluGemm.tileWidth(64, 1, 8960, 132), "qwen2-1.5b: 125 blocks");
        assertEquals(144, SwigluGemm.tileWidth(256, 256, 8960, 132));
        assertEquals(128, SwigluGemm.tileWidth(64, 16, 8192, 132), "llama3.2-1b: 128 blocks");
        assertEquals(48, SwigluGemm.tileWidth(128, 128, 3072, 132), "qwen3-0.6b: 128 blocks");
        // fewer SMs: on 114 (an H100 PCIe) 144's 125 blocks take two waves; 192's 94 one (ties with 48, 64, 96 go wider)
        assertEquals(192, SwigluGemm.tileWidth(64, 1, 8960, 114));
    }

    @Test
    void theKernelRunsEveryDecodeBatchAndTheEngineUsesTheMiddleOnes() {
        assertTrue(SwigluGemm.supports(1) && SwigluGemm.supports(256));
        assertFalse(SwigluGemm.supports(0) || SwigluGemm.supports(257));
        // the engine's range: where the kernel beat the tuned cuBLAS + silu_mul in a decode graph (block heights 128, 192)
        assertTrue(SwigluGemm.covers(65) && SwigluGemm.covers(128) && SwigluGemm.covers(192));
        assertFalse(SwigluGemm.covers(64) || SwigluGemm.covers(193), "1-64 and 193-256 rows keep the tuned path");
        assertFalse(SwigluGemm.covers(1024), "prefill chunks keep cuBLAS + silu_mul");
    }

    @Test
    void everyCompiledTileFitsTheSharedMemoryOfABlock() {
        for (int bm : TmaPipeline.BLOCK_ROWS) {
            for (int bn : SwigluGemm.WIDTHS) {
                if (SwigluGemm.compiled(bm, bn)) {
                    int bytes = SwigluGemm.sharedBytes(bm, bn);
                    int stage = (bm + bn) * 128 + 16;
                    assertTrue(bytes <= 227 * 1024 && bytes >= 1024 + 3 * stage, bm + " x " + bn + ": " + bytes);
                }
            }
        }
    }

    @Test
    void theJavaListOfKernelsIsTheOneTheCudaFileCompiles() throws Exception {
        String cu = Files.readString(Path.of("src/main/cuda/gemm_swiglu_wgmma.cu"));
        List<String> compiled = new ArrayList<>();
        Matcher widths = Pattern.compile("(?m)^EMBER_SWIGLU_WIDTHS\\((\\d+), \\d+, \\d+\\)").matcher(cu);
        while (widths.find()) {
            for (int bn : new int[] {48, 64, 96, 128, 144, 192}) {
                compiled.add(SwigluGemm.kernel(Integer.parseInt(widths.group(1)), bn));
            }
        }
        Matcher single = Pattern.compile("(?m)EMBER_SWIGLU\\((\\d+), \\d+, \\d+, (\\d+)\\)(?! *\\\\)").matcher(
                cu.substring(cu.lastIndexOf("EMBER_SWIGLU_WIDTHS(256")));
        while (single.find()) {
            compiled.add(SwigluGemm.kernel(Integer.parseInt(single.group(1)), Integer.parseInt(single.group(2))));
        }
        List<String> java = new ArrayList<>();
        for (int bm : TmaPipeline.BLOCK_ROWS) {
            for (int bn : SwigluGemm.WIDTHS) {
                if (SwigluGemm.compiled(bm, bn)) {
                    java.add(SwigluGemm.kernel(bm, bn));
                }
            }
        }
        assertEquals(java.stream().sorted().toList(), compiled.stream().sorted().toList());
    }

    @Test
    void badShapesAndTilesFailNamingWhatIsAllowed() {
        assertTrue(SwigluGemm.handles(DType.BF16, 1536, 8960));
        assertFalse(SwigluGemm.handles(DType.F16, 1536, 8960), "bfloat16 only");
        assertFalse(SwigluGemm.handles(DType.BF16, 1000, 8960), "K in 64-wide steps");
        assertFalse(SwigluGemm.handles(DType.BF16, 1536, 8964), "features in 8s");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SwigluGemm(null, null, 132, 1000, 8960, new long[1]));
        assertTrue(e.getMessage().contains("hidden % 64 == 0"), e.getMessage());
        SwigluGemm g = new SwigluGemm(null, null, 132, 128, 64, new long[1]);
        e = assertThrows(IllegalArgumentException.class, () -> g.run(0, 0, 0, 257));
        assertTrue(e.getMessage().contains("1 to 256 rows; got 257"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.run(0, 0, 0, 10, 100, 64));
        assertTrue(e.getMessage().contains("no gemm_swiglu tile of 100 x 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.run(0, 0, 0, 10, 256, 256), "256 x 256 is not compiled");
    }

    @Test
    void theSwitchIsReadAsTheOthers() {
        SwitchAssertions.readAsTheOthers(SwigluGemm.PROPERTY, SwigluGemm::enabled, true);
    }
}

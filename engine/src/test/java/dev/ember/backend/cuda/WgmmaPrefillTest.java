package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.Test;

import static dev.ember.backend.cuda.WgmmaPrefill.Decision.LOAD;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.NOT_SM90;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.NO_IMAGE;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.OFF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When the engine loads the sm_90a prefill kernel and what it covers; no GPU needed. */
class WgmmaPrefillTest {
    @Test
    void loadsOnlyOnComputeCapability9WithTheImageUnlessTurnedOff() {
        assertEquals(LOAD, WgmmaPrefill.decide(null, 9, true), "on by default");
        assertEquals(LOAD, WgmmaPrefill.decide("true", 9, true));
        assertEquals(OFF, WgmmaPrefill.decide("false", 9, true));
        assertEquals(OFF, WgmmaPrefill.decide("false", 8, false), "the switch is reported before the hardware");
        for (int major : new int[] {8, 10, 12}) {
            assertEquals(NOT_SM90, WgmmaPrefill.decide(null, major, true), "sm " + major);
        }
        assertEquals(NO_IMAGE, WgmmaPrefill.decide(null, 9, false));
        assertEquals(OFF, WgmmaPrefill.decide(" FALSE ", 9, true), "read as the other switches: case and blanks aside");
    }

    @Test
    void aTypoFailsNamingTheSwitch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WgmmaPrefill.decide("flase", 9, true));
        assertEquals("ember.cuda.wgmmaPrefill is 'flase'; expected true or false", e.getMessage());
    }

    @Test
    void coversBfloat16AtHeadDim128WithGroupsThatFitATile() {
        assertTrue(WgmmaPrefill.handles(DType.BF16, 128, 6));
        assertTrue(WgmmaPrefill.handles(DType.BF16, 128, 1));
        assertTrue(WgmmaPrefill.handles(DType.BF16, 128, 64), "one token's group a tile");
        assertFalse(WgmmaPrefill.handles(DType.BF16, 128, 65), "no token fits a 64-row tile");
        assertFalse(WgmmaPrefill.handles(DType.BF16, 64, 6));
        assertFalse(WgmmaPrefill.handles(DType.F16, 128, 6));
        assertFalse(WgmmaPrefill.handles(DType.F32, 128, 6));
        assertTrue(WgmmaPrefill.handles(DType.BF16, 128), "the kernel exists, whatever the group");
        assertFalse(WgmmaPrefill.handles(DType.F16, 128));
    }

    @Test
    void sharedMemoryIsTheKernelsAndTwoBlocksFitAnSm90() {
        assertEquals(115_712, WgmmaPrefill.SHARED_BYTES, "wgq::SMEM of attention_prefill_wgmma.cu");
        // sm_90: 228 KiB a SM, 1 KiB of it reserved by the driver for each resident block
        assertTrue(2 * (WgmmaPrefill.SHARED_BYTES + 1024) <= 228 * 1024, "two blocks a SM");
        assertEquals(WgmmaPrefill.ROWS, WgmmaPrefill.THREADS / 128 * 64, "one warpgroup's m64 rows a tile");
        assertTrue(WgmmaPrefill.ROWS <= Kernels.TC_PREFILL_ROWS, "attn_prefill_tc runs the same tiles");
    }

    @Test
    void theStartLogSaysWhyAGpuThatCouldRunItDoesNot() {
        assertTrue(CudaBackend.wgmmaNote(true, true, LOAD).contains("sm_90a"));
        assertEquals("", CudaBackend.wgmmaNote(false, true, NOT_SM90));
        assertEquals("", CudaBackend.wgmmaNote(false, false, LOAD), "a model the kernel does not cover");
        assertTrue(CudaBackend.wgmmaNote(false, true, OFF).contains(WgmmaPrefill.PROPERTY));
        assertTrue(CudaBackend.wgmmaNote(false, true, NO_IMAGE).contains(Sm90aImage.FATBIN));
        assertTrue(CudaBackend.wgmmaNote(false, true, LOAD).contains("did not load"));
    }
}

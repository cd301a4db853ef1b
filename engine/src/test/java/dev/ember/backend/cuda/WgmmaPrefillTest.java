package dev.ember.backend.cuda;

import dev.ember.weights.DType;
import org.junit.jupiter.api.Test;

import static dev.ember.backend.cuda.WgmmaPrefill.Decision.LOAD;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.NOT_SM90;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.NO_IMAGE;
import static dev.ember.backend.cuda.WgmmaPrefill.Decision.OFF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    }

    @Test
    void coversBfloat16AtHeadDim128Only() {
        assertTrue(WgmmaPrefill.handles(DType.BF16, 128));
        assertFalse(WgmmaPrefill.handles(DType.BF16, 64));
        assertFalse(WgmmaPrefill.handles(DType.F16, 128));
        assertFalse(WgmmaPrefill.handles(DType.F32, 128));
    }

    @Test
    void sharedMemoryIsTheKernelsAndFitsSm90() {
        assertEquals(230_400, WgmmaPrefill.SHARED_BYTES, "wgp::SMEM of attention_prefill_wgmma.cu");
        assertTrue(WgmmaPrefill.SHARED_BYTES <= 227 * 1024);
        assertEquals(Kernels.TC_PREFILL_THREADS, WgmmaPrefill.THREADS, "both kernels take the same 128-row tiles");
    }

    @Test
    void theStartLogSaysWhyAGpuThatCouldRunItDoesNot() {
        assertTrue(CudaBackend.wgmmaNote(true, true, LOAD).contains("sm_90a"));
        assertEquals("", CudaBackend.wgmmaNote(false, true, NOT_SM90));
        assertEquals("", CudaBackend.wgmmaNote(false, false, LOAD), "a model the kernel does not cover");
        assertTrue(CudaBackend.wgmmaNote(false, true, OFF).contains(WgmmaPrefill.PROPERTY));
        assertTrue(CudaBackend.wgmmaNote(false, true, NO_IMAGE).contains(WgmmaPrefill.FATBIN));
        assertTrue(CudaBackend.wgmmaNote(false, true, LOAD).contains("did not load"));
    }
}

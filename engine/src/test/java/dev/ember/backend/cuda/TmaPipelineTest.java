package dev.ember.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** TmaPipeline, the host's mirror of tma_gemm.cuh that SwigluGemm and ClusterGemm share: block heights and threads. */
class TmaPipelineTest {
    @Test
    void blockRowsCoverEveryDecodeBatch() {
        assertEquals(64, TmaPipeline.blockRows(1));
        assertEquals(64, TmaPipeline.blockRows(64));
        assertEquals(128, TmaPipeline.blockRows(65));
        assertEquals(192, TmaPipeline.blockRows(129));
        assertEquals(256, TmaPipeline.blockRows(193));
        assertEquals(256, TmaPipeline.blockRows(256));
    }

    @Test
    void aBlockIsTheProducerWarpgroupAndItsConsumers() {
        assertEquals(256, TmaPipeline.threads(64));
        assertEquals(384, TmaPipeline.threads(128));
        assertEquals(512, TmaPipeline.threads(192));
        assertEquals(384, TmaPipeline.threads(256));
    }
}

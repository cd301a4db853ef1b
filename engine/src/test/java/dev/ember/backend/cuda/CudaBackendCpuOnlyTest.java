package dev.ember.backend.cuda;

import dev.ember.CudaException;
import dev.ember.backend.cpu.CpuOps;
import dev.ember.api.EngineConfig;
import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA backend's host-side logic, on any machine: no GPU needed (CI has none). */
class CudaBackendCpuOnlyTest {
    private static ModelConfig config(int heads, int kvHeads, int headDim, RopeScaling scaling) {
        return new ModelConfig(Architecture.LLAMA, 1000, heads * headDim, 256, 2, heads, kvHeads, headDim, 1e-5, 500000,
                scaling, 4096, true, false, false, "bfloat16", 1, Set.of(2));
    }

    @Test
    void ropeFrequenciesMatchTheCpuBackend() {
        RopeScaling scaling = new RopeScaling(32, 1, 4, 8192);
        ModelConfig c = config(8, 2, 64, scaling);
        assertArrayEquals(CpuOps.ropeInvFreq(64, 500000, scaling), CudaModel.inverseFrequencies(c));
        ModelConfig plain = config(8, 2, 128, null);
        assertArrayEquals(CpuOps.ropeInvFreq(128, 500000, null), CudaModel.inverseFrequencies(plain));
    }

    @Test
    void samplerSplitsSmallBatchesToFillTheSms() {
        assertEquals(1, GpuSampler.splits(16, 0), "0 SMs: never split");
        assertEquals(2, GpuSampler.splits(264, 132), "ceil(528 / 264)");
        assertEquals(3, GpuSampler.splits(263, 132), "ceil(528 / 263)");
        assertEquals(2, GpuSampler.splits(1024, 132), "never fewer than 2 with SMs known");
        assertEquals(5, GpuSampler.splits(128, 132));
        assertEquals(GpuSampler.MAX_SPLITS, GpuSampler.splits(1, 132));
        assertEquals(GpuSampler.MAX_SPLITS, GpuSampler.splits(16, 132), "ceil(528 / 16) = 33 is capped");
    }

    @Test
    void decodeSplitsCoverTheContextWithinTheLimits() {
        ModelConfig c = config(12, 2, 128, null);
        for (int seqs : new int[] {1, 3, 64, 256}) {
            for (int ctx : new int[] {1, 100, 2048, 32768}) {
                for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                for (int longest : new int[] {64, 256, 1024}) {
                int maxPartition = Kernels.maxDecodePartition(dtype, c.groupSize(), c.headDim());
                int[] split = CudaModel.decodeSplits(c, 132, seqs, ctx, maxPartition, longest);
                int partition = split[0];
                int splits = split[1];
                assertTrue((long) partition * splits >= ctx, "splits must cover the context");
                assertTrue((long) partition * (splits - 1) < ctx, "no split may be entirely past the context");
                assertTrue(partition <= maxPartition);
                assertTrue(partition % 64 == 0, "partitions are whole key tiles");
                assertTrue((long) seqs * splits <= Activations.MAX_SPLIT_ROWS);
                assertTrue(partition <= longest || (long) seqs * ceilDiv(ctx, longest) > Activations.MAX_SPLIT_ROWS,
                        "no split is longer than the longest allowed unless the partial buffers force it");
                }
                }
            }
        }
        // a small batch is split finer than a large one, to fill the GPU
        int limit = Kernels.maxDecodePartition(DType.BF16, c.groupSize(), c.headDim());
        assertTrue(CudaModel.decodeSplits(c, 132, 1, 4096, limit, 1024)[1] > CudaModel.decodeSplits(c, 132, 256, 4096, limit, 1024)[1]);
        // 128-key splits only where 256-key ones leave SMs idle: 16 x 2 heads x 6 splits = 192 < 264 blocks
        assertEquals(128, CudaModel.decodeSplits(c, 132, 16, 1536, limit, 1024)[0]);
        assertEquals(256, CudaModel.decodeSplits(c, 132, 32, 1536, limit, 1024)[0]);
        // no split is longer than 1,024 keys, so long and short sequences finish together
        assertTrue(CudaModel.decodeSplits(c, 132, 256, 8192, limit, 1024)[0] <= 1024);
        // a shorter longest split: 256 sequences at a 2,048-key bound split in eight 256-key parts, not two of 1,024
        assertArrayEquals(new int[] {256, 8}, CudaModel.decodeSplits(c, 132, 256, 2048, limit, 256));
        assertArrayEquals(new int[] {1024, 2}, CudaModel.decodeSplits(c, 132, 256, 2048, limit, 1024));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    @Test
    void theLongestDecodeSplitIsValidated() {
        assertEquals(1024, CudaModel.longestDecodeSplit(null));
        assertEquals(256, CudaModel.longestDecodeSplit("256"));
        for (String bad : new String[] {"0", "100", "2048", "x", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaModel.longestDecodeSplit(bad));
            assertTrue(e.getMessage().contains("ember.cuda.decodeSplitKeys") && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
    }

    @Test
    void benchmarkSwitchesAreValidated() {
        String p = CudaModel.FUSED_DECODE_ROPE_PROPERTY;
        assertTrue(Switches.parse(p, null, true), "unset: the default");
        assertFalse(Switches.parse(p, null, false), "unset: the default");
        assertTrue(Switches.parse(p, "true", false));
        assertTrue(Switches.parse(p, " TRUE ", false));
        assertFalse(Switches.parse(p, "false", true));
        assertFalse(Switches.parse(p, "False", true));
        for (String bad : new String[] {"", "0", "off", "no", "flase"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Switches.parse(p, bad, true));
            assertTrue(e.getMessage().contains("ember.cuda.fusedDecodeRope") && e.getMessage().contains("'" + bad + "'")
                    && e.getMessage().contains("true or false"), e.getMessage());
        }
    }

    @Test
    void ropeIsFusedIntoDecodeAttentionOnlyInPureDecodeStepsOfTensorCoreModels() {
        assertTrue(CudaModel.fusesDecodeRope(true, DType.BF16, true));
        assertTrue(CudaModel.fusesDecodeRope(true, DType.F16, true));
        assertFalse(CudaModel.fusesDecodeRope(false, DType.BF16, true), "a mixed step keeps rope_store");
        assertFalse(CudaModel.fusesDecodeRope(true, DType.F32, true), "the float32 kernel has no fused path");
        assertFalse(CudaModel.fusesDecodeRope(true, DType.BF16, false), "turned off by the property");
    }

    @Test
    void graphBucketsRoundUpWithinTheLimits() {
        DecodeGraphs graphs = new DecodeGraphs(null, 100, 2048);
        assertEquals(1, graphs.batchBucket(1));
        assertEquals(2, graphs.batchBucket(2));
        assertEquals(4, graphs.batchBucket(3));
        assertEquals(8, graphs.batchBucket(5));
        assertEquals(64, graphs.batchBucket(57));
        assertEquals(100, graphs.batchBucket(99), "never above max_num_seqs");
        assertEquals(16, graphs.strideBucket(1));
        assertEquals(128, graphs.strideBucket(100));
        assertEquals(2048, graphs.strideBucket(2048));
        // the buckets captured at start cover every batch size and block count the engine can schedule
        List<Integer> batches = graphs.batchBuckets();
        assertEquals(List.of(1, 2, 4, 8, 16, 32, 48, 64, 80, 96, 100), batches);
        for (int seqs = 1; seqs <= 100; seqs++) {
            assertTrue(batches.contains(graphs.batchBucket(seqs)), "batch " + seqs);
        }
        assertEquals(List.of(16, 32, 64, 128, 256, 512, 1024, 2048), graphs.strideBuckets());
        assertEquals(List.of(16, 32, 64, 100), new DecodeGraphs(null, 8, 100).strideBuckets());
    }

    @Test
    void autoDtypeFollowsTheCheckpoint() {
        ModelConfig c = config(8, 2, 64, null);
        TensorView f16 = new TensorView("e", DType.F16, new long[] {1}, java.nio.ByteBuffer.allocate(2));
        TensorView bf16 = new TensorView("e", DType.BF16, new long[] {1}, java.nio.ByteBuffer.allocate(2));
        assertEquals(DType.F16, CudaBackend.computeDtype("auto", c, new ModelWeights(f16, List.of(), f16, f16)));
        assertEquals(DType.BF16, CudaBackend.computeDtype("auto", c, new ModelWeights(bf16, List.of(), bf16, bf16)));
        assertEquals(DType.F32, CudaBackend.computeDtype("float32", c, new ModelWeights(bf16, List.of(), bf16, bf16)));
    }

    @Test
    void unsupportedShapesAreRefusedByName() {
        CudaException e = assertThrows(CudaException.class, () -> CudaBackend.checkSupported(config(4, 2, 32, null)));
        assertTrue(e.getMessage().contains("head_dim=32"), e.getMessage());
        e = assertThrows(CudaException.class, () -> CudaBackend.checkSupported(config(32, 2, 64, null)));
        assertTrue(e.getMessage().contains("16"), e.getMessage());
    }

    @Test
    void withoutAGpuCreateFailsWithAClearCudaException() {
        Assumptions.assumeFalse(gpuPresent(), "this machine has a GPU");
        ModelConfig c = config(8, 2, 64, null);
        TensorView t = TensorView.ofFloats("e", new long[] {1}, new float[1]);
        EngineConfig engine = EngineConfig.builder(Path.of("unused")).device("cuda").build();
        CudaException e = assertThrows(CudaException.class,
                () -> CudaBackend.create(c, new ModelWeights(t, List.of(), t, t), engine));
        assertTrue(e.getMessage().contains("cuda"), e.getMessage());
    }

    private static boolean gpuPresent() {
        try (CudaDevice d = CudaDevice.open(0)) {
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }
}

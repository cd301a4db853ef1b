package dev.ember.backend.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * CUDA graphs of the decode forward pass, one per (batch-size bucket, block-table stride bucket), all captured at
 * engine start ({@link CudaBackend}) and replayed afterwards, so no step of a run pays for a capture. A graph reads
 * its inputs from the fixed regions of {@link StepInputs}, refreshed by the step's one async copy. Batch buckets:
 * 1, 2, 4, 8, then multiples of 16 (as nano-vLLM: a padded row costs little next to a graph per size); stride
 * buckets: powers of two from 16 blocks. Owns the graphs. Not thread-safe.
 */
final class DecodeGraphs implements AutoCloseable {
    /** Captures (or replays) the decode forward of a fixed shape. */
    interface DecodeForward {
        void run(int batch, int stride);
    }

    private final Map<Long, CUgraphExec> graphs = new HashMap<>();
    private final CudaStream stream;
    private final int maxSeqs;
    private final int maxStride;

    DecodeGraphs(CudaStream stream, int maxSeqs, int maxStride) {
        this.stream = stream;
        this.maxSeqs = maxSeqs;
        this.maxStride = maxStride;
    }

    int batchBucket(int seqs) {
        int b = seqs <= 1 ? 1 : seqs <= 2 ? 2 : seqs <= 4 ? 4 : seqs <= 8 ? 8 : (seqs + 15) / 16 * 16;
        return Math.min(b, maxSeqs);
    }

    /** Every batch bucket up to max_num_seqs, smallest first. */
    java.util.List<Integer> batchBuckets() {
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        for (int s = 1; s <= maxSeqs; s++) {
            out.add(batchBucket(s));
        }
        return java.util.List.copyOf(out);
    }

    /** Every stride bucket up to the longest block table, smallest first. */
    java.util.List<Integer> strideBuckets() {
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        for (int s = 16; ; s <<= 1) {
            out.add(Math.min(s, maxStride));
            if (s >= maxStride) {
                break;
            }
        }
        return java.util.List.copyOf(out);
    }

    int strideBucket(int blocks) {
        int s = 16;
        while (s < blocks) {
            s <<= 1;
        }
        return Math.min(s, maxStride);
    }

    int size() {
        return graphs.size();
    }

    /** Replays the graph of this shape and returns true, or returns false when it has not been captured yet. */
    boolean replay(int batch, int stride) {
        CUgraphExec exec = graphs.get(key(batch, stride));
        if (exec == null) {
            return false;
        }
        Cuda.check(JCudaDriver.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch(decode batch " + batch + ")");
        return true;
    }

    /** Captures {@code forward} for this shape (nothing runs while capturing). */
    void capture(int batch, int stride, DecodeForward forward) {
        CUgraph graph = new CUgraph();
        Cuda.check(JCudaDriver.cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
        try {
            forward.run(batch, stride);
        } catch (RuntimeException e) {
            CUgraph broken = new CUgraph();
            JCudaDriver.cuStreamEndCapture(stream.handle(), broken);
            throw e;
        }
        Cuda.check(JCudaDriver.cuStreamEndCapture(stream.handle(), graph), "cuStreamEndCapture");
        try {
            CUgraphExec exec = new CUgraphExec();
            Cuda.check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate(decode batch " + batch + ")");
            graphs.put(key(batch, stride), exec);
        } finally {
            Cuda.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }

    private static long key(int batch, int stride) {
        return ((long) batch << 32) | stride;
    }

    @Override
    public void close() {
        for (CUgraphExec exec : graphs.values()) {
            Cuda.check(JCudaDriver.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        }
        graphs.clear();
    }
}

package dev.ember.backend.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * CUDA graphs of the decode forward pass, one per (batch-size bucket, block-table stride bucket), captured
 * lazily the first time a bucket is needed (that step runs eagerly) and replayed afterwards. A graph reads its
 * inputs from the fixed regions of {@link StepInputs}, refreshed by the step's one async copy. Batch buckets:
 * 1, 2, 4, then multiples of 8; stride buckets: powers of two from 16 blocks. Owns the graphs. Not thread-safe.
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
        int b = seqs <= 1 ? 1 : seqs <= 2 ? 2 : seqs <= 4 ? 4 : (seqs + 7) / 8 * 8;
        return Math.min(b, maxSeqs);
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

package dev.ember.backend.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU time per category of work in one eager forward pass (profiling only): {@link #mark} records an event on
 * the stream and starts a segment of the named category; the time up to the next mark is charged to it. Owns
 * its events. Not thread-safe.
 */
final class KernelTimer implements AutoCloseable {
    private final CudaStream stream;
    private final List<CUevent> events = new ArrayList<>();
    private final List<String> categories = new ArrayList<>();

    KernelTimer(CudaStream stream) {
        this.stream = stream;
    }

    /** Starts a segment of {@code category} (null ends the last one). */
    void mark(String category) {
        CUevent e = new CUevent();
        Cuda.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
        Cuda.check(JCudaDriver.cuEventRecord(e, stream.handle()), "cuEventRecord");
        events.add(e);
        categories.add(category);
    }

    /** Milliseconds per category, in first-seen order; call after the stream is synchronized. */
    Map<String, Double> totals() {
        Map<String, Double> out = new LinkedHashMap<>();
        float[] ms = new float[1];
        for (int i = 0; i + 1 < events.size(); i++) {
            String c = categories.get(i);
            if (c == null) {
                continue;
            }
            Cuda.check(JCudaDriver.cuEventElapsedTime(ms, events.get(i), events.get(i + 1)), "cuEventElapsedTime");
            out.merge(c, (double) ms[0], Double::sum);
        }
        return out;
    }

    @Override
    public void close() {
        for (CUevent e : events) {
            JCudaDriver.cuEventDestroy(e);
        }
        events.clear();
        categories.clear();
    }
}

package dev.ember.backend.cuda;

import dev.ember.backend.ForwardBatch;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Profiling only ({@code -Dember.cuda.timeline=true}): a CUDA event on the stream where each launched step begins
 * (before its input copy) and where it ends (after the copy of its samples). The GPU reaches a step's start event
 * as soon as it has finished everything before it, so the time from one step's end event to the next one's start
 * event is how long the GPU waited for the host to enqueue that step: zero when the host runs ahead. Summarized
 * in one log line when the backend closes. Owns its events. Not thread-safe.
 */
final class StepTimeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepTimeline.class);

    private final CudaStream stream;
    private final List<CUevent> starts = new ArrayList<>();
    private final List<CUevent> ends = new ArrayList<>();
    /** Per step: its decode batch size, or -(tokens) for a step with prefill tokens. */
    private final List<Integer> shapes = new ArrayList<>();

    StepTimeline(CudaStream stream) {
        this.stream = stream;
    }

    void begin(ForwardBatch batch) {
        int tokens = batch.tokenIds.length;
        shapes.add(tokens == batch.numSeqs ? batch.numSeqs : -tokens);
        starts.add(record());
    }

    void end() {
        ends.add(record());
    }

    private CUevent record() {
        CUevent e = new CUevent();
        Cuda.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
        Cuda.check(JCudaDriver.cuEventRecord(e, stream.handle()), "cuEventRecord");
        return e;
    }

    /** {median, 90th percentile, total} of the gaps in microseconds, and the span from first start to last end. */
    double[] summary() {
        stream.synchronize();
        int n = Math.min(starts.size(), ends.size());
        if (n < 2) {
            return new double[] {0, 0, 0, 0};
        }
        double[] gaps = new double[n - 1];
        float[] ms = new float[1];
        double total = 0;
        for (int i = 1; i < n; i++) {
            Cuda.check(JCudaDriver.cuEventElapsedTime(ms, ends.get(i - 1), starts.get(i)), "cuEventElapsedTime");
            gaps[i - 1] = Math.max(0, ms[0] * 1000.0);
            total += gaps[i - 1];
        }
        Cuda.check(JCudaDriver.cuEventElapsedTime(ms, starts.get(0), ends.get(n - 1)), "cuEventElapsedTime");
        Arrays.sort(gaps);
        return new double[] {gaps[gaps.length / 2], gaps[(int) (gaps.length * 0.9)], total, ms[0] * 1000.0};
    }

    /**
     * GPU time from each step's start to its end event, summed by kind: decode steps by batch size (1-32, 33-64,
     * 65-128, 129-256, larger) and steps with prefill tokens; count and mean per kind.
     */
    String breakdown() {
        int n = Math.min(starts.size(), ends.size());
        String[] names = {"decode 1-32", "decode 33-64", "decode 65-128", "decode 129-256", "decode >256", "prefill"};
        double[] sum = new double[names.length];
        int[] count = new int[names.length];
        float[] ms = new float[1];
        for (int i = 0; i < n; i++) {
            Cuda.check(JCudaDriver.cuEventElapsedTime(ms, starts.get(i), ends.get(i)), "cuEventElapsedTime");
            int shape = shapes.get(i);
            int k = shape < 0 ? 5 : shape <= 32 ? 0 : shape <= 64 ? 1 : shape <= 128 ? 2 : shape <= 256 ? 3 : 4;
            sum[k] += ms[0];
            count[k]++;
        }
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < names.length; k++) {
            if (count[k] > 0) {
                out.append(String.format(Locale.ROOT, "%s%s: %d steps, %.1f ms, mean %.3f ms", out.length() > 0 ? "; " : "",
                        names[k], count[k], sum[k], sum[k] / count[k]));
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        try {
            double[] s = summary();
            LOG.info(String.format(Locale.ROOT, "step timeline: %d steps; GPU idle between consecutive steps: median"
                    + " %.1f µs, p90 %.1f µs, %.1f ms in all of %.1f ms", Math.min(starts.size(), ends.size()), s[0],
                    s[1], s[2] / 1000, s[3] / 1000));
            LOG.info("step timeline by step kind: " + breakdown());
        } finally {
            starts.forEach(JCudaDriver::cuEventDestroy);
            ends.forEach(JCudaDriver::cuEventDestroy);
        }
    }
}

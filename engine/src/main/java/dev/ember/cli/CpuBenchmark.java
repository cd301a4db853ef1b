package dev.ember.cli;

import dev.ember.ConfigException;
import dev.ember.OptionValues;
import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.model.ModelConfig;
import dev.ember.sampling.SamplingParams;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The CPU backend's decode benchmark (issue 11): for each concurrency in {@code --requests} (default 1,4,16) it
 * submits that many requests of {@code --prompt-tokens} random token ids (default 64) asking for
 * {@code --new-tokens} (default 32) tokens with EOS ignored — greedy, or drawn at {@code --temperature} with a
 * fixed seed (so that two builds' digests still compare) — once as a warm-up and then {@code --rounds}
 * timed times (default 1), and prints output tokens/s next to two ceilings of the machine:
 * <ul>
 *   <li>memory: every decode step reads the weights once, at {@code --mem-gbs} GB/s (default 50), so N
 *       requests make at most {@code N * bandwidth / weightBytes} tokens/s;</li>
 *   <li>compute: every token (prompt and output) costs {@code 2 * matmulParams} FLOPs at {@code --fma-gflops}
 *       GFLOP/s (default 390: the vector FMA rate measured on the 2-core development machine), so output tokens
 *       come at most at {@code rate / (2 * params) * new / (prompt + new)}.</li>
 * </ul>
 * Each timed round also prints the JVM's CPU seconds and tokens per CPU second, which stay meaningful when other
 * processes share the cores. The same prompt token ids are used for every concurrency (request i always gets the same prompt), so prefix
 * caching is off unless {@code --enable-prefix-caching true} is given. Engine options ({@code --model},
 * {@code --num-threads}, ...) pass through.
 */
public final class CpuBenchmark {
    private CpuBenchmark() {
    }

    public static void main(String[] args) {
        run(args, System.out);
    }

    static void run(String[] args, PrintStream out) {
        CliArgs cli = CliArgs.parse(args, Set.of("requests", "prompt_tokens", "new_tokens", "rounds", "mem_gbs",
                "fma_gflops", "temperature"));
        int promptTokens = OptionValues.parseInt("prompt_tokens", cli.get("prompt_tokens", "64"));
        int newTokens = OptionValues.parseInt("new_tokens", cli.get("new_tokens", "32"));
        int rounds = OptionValues.parseInt("rounds", cli.get("rounds", "1"));
        double memGbs = OptionValues.parseDouble("mem_gbs", cli.get("mem_gbs", "50"));
        double fmaGflops = OptionValues.parseDouble("fma_gflops", cli.get("fma_gflops", "390"));
        double temperature = OptionValues.parseDouble("temperature", cli.get("temperature", "0"));
        List<Integer> concurrencies = new ArrayList<>();
        for (String s : cli.get("requests", "1,4,16").split(",")) {
            int n = OptionValues.parseInt("requests", s.trim());
            if (n < 1) {
                throw ConfigException.invalid("requests", s, "a comma-separated list of integers >= 1");
            }
            concurrencies.add(n);
        }
        if (promptTokens < 1 || newTokens < 1 || rounds < 1) {
            throw new ConfigException("--prompt-tokens, --new-tokens and --rounds must be >= 1; got " + promptTokens
                    + ", " + newTokens + ", " + rounds);
        }
        // the rounds reuse their prompts: a prefix-cache hit would skip the prefill being measured
        cli.values.putIfAbsent("enable_prefix_caching", "false");
        EngineConfig config = cli.engineConfig();
        try (Engine engine = Engine.create(config)) {
            ModelConfig model = Engine.checkModel(config.model());
            long matmulParams = matmulParams(model);
            double weightBytes = matmulParams * bytesPerParam(model);
            out.printf(Locale.ROOT, "backend: %s%n", engine.backendDescription());
            out.printf(Locale.ROOT, "model: %s, %.1f M matmul parameters (%.0f MB read per decode step)%n",
                    config.model(), matmulParams / 1e6, weightBytes / 1e6);
            int maxN = concurrencies.stream().mapToInt(Integer::intValue).max().orElse(1);
            List<int[]> prompts = prompts(maxN, promptTokens, Math.min(engine.vocabSize(), 10_000));
            SamplingParams params = SamplingParams.builder().maxTokens(newTokens).temperature(temperature).seed(1234L)
                    .ignoreEos(true).build();
            // the digest of every generated token id: runs of two code paths (-Dember.cpu.gemm=java / auto) must
            // print the same one, so a benchmark never times arithmetic that went wrong
            out.printf(Locale.ROOT, "%-9s %-7s %-9s %-10s %-13s %-13s %-8s %-12s %s%n", "requests", "round", "seconds",
                    "out tok/s", "of mem ceil", "of flop ceil", "cpu s", "tok/cpu-s", "token digest");
            for (int n : concurrencies) {
                generate(engine, prompts, n, params); // warm-up: JIT and caches at this batch shape
                double memCeiling = n * memGbs * 1e9 / weightBytes;
                double flopCeiling = fmaGflops * 1e9 / (2.0 * matmulParams) * newTokens / (promptTokens + newTokens);
                for (int r = 0; r < rounds; r++) {
                    long cpuStart = processCpuNanos();
                    long start = System.nanoTime();
                    Generated round = generate(engine, prompts, n, params);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
                    double rate = round.tokens() / seconds;
                    out.printf(Locale.ROOT,
                            "%-9d %-7d %-9.2f %-10.1f %5.0f%% of %-5.0f %5.0f%% of %-5.0f %-8.2f %-12.2f %08x%n",
                            n, r + 1, seconds, rate, 100 * rate / memCeiling, memCeiling, 100 * rate / flopCeiling,
                            flopCeiling, cpuSeconds, round.tokens() / cpuSeconds, round.digest());
                }
            }
            System.gc();
            Runtime rt = Runtime.getRuntime();
            out.printf(Locale.ROOT, "JVM heap in use after the runs: %d MiB (the KV cache and activations; the weights "
                    + "stay memory-mapped outside the heap)%n", (rt.totalMemory() - rt.freeMemory()) >> 20);
        }
    }

    /**
     * CPU time of the whole JVM, or -1 where the platform does not say. On a machine shared with other work,
     * tokens per CPU second show the code's speed where wall-clock figures show the neighbours' load.
     */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** One round: its generated tokens, and a digest of their ids in request order. */
    private record Generated(long tokens, int digest) {
    }

    private static Generated generate(Engine engine, List<int[]> prompts, int n, SamplingParams params) {
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            requests.add(Request.ofTokens("r" + i, prompts.get(i), params));
        }
        long tokens = 0;
        int digest = 1;
        for (Result result : engine.generate(requests)) {
            if (!result.ok()) {
                throw new IllegalStateException("request " + result.requestId() + " failed: " + result.error());
            }
            tokens += result.completionTokens();
            digest = 31 * digest + Arrays.hashCode(result.tokenIds());
        }
        return new Generated(tokens, digest);
    }

    /** Deterministic prompts: the same ids on every run and for every concurrency. */
    private static List<int[]> prompts(int count, int length, int maxId) {
        SplittableRandom random = new SplittableRandom(11);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            prompts.add(random.ints(length, 0, maxId).toArray());
        }
        return prompts;
    }

    /** Parameters of the matrices a token goes through (the embedding lookup reads one row, so it is left out). */
    static long matmulParams(ModelConfig m) {
        long hidden = m.hiddenSize();
        long perLayer = hidden * m.qkvSize() + (long) m.numHeads() * m.headDim() * hidden
                + 3 * hidden * m.intermediateSize();
        return m.numLayers() * perLayer + (long) m.vocabSize() * hidden;
    }

    private static int bytesPerParam(ModelConfig m) {
        String dtype = m.torchDtype() == null ? "" : m.torchDtype().toLowerCase(Locale.ROOT);
        return dtype.contains("32") ? 4 : 2;
    }
}

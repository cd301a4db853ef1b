package dev.ember.cli;

import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.engine.EngineMetrics;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.sampling.SamplingParams;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Offline throughput benchmark: submits every request of a workload at once (like the widely used offline
 * throughput benchmark), waits for all, and prints output tokens, seconds and tokens/s, then one JSON line.
 * {@code --limit N} takes the first N requests; {@code --max-len-scale F} scales prompt and output lengths (for slow
 * CPU runs); token ids at or past the model's vocabulary are folded into it (id % vocab) with a note, so the
 * workload also runs on the tiny demo model. {@code --warmup N} first runs the workload's first N requests untimed;
 * {@code --runs N} times the whole workload N times and reports the median run (each run on its own too). Later
 * runs find the prompts in the prefix cache (the engine's default), as a repeated job would. Sampling options ({@code --top-p 0.9}, {@code --max-tokens 8}, ...) override
 * the workload's. Engine load time is measured separately from the timed part.
 */
public final class Benchmark {
    private Benchmark() {
    }

    public static void main(String[] args) {
        run(args, System.out, System.err);
    }

    /** Runs the benchmark: figures as "name: value" lines, then one JSON line, on {@code out}; notes on {@code err}. */
    static void run(String[] args, java.io.PrintStream out, java.io.PrintStream err) {
        CliArgs cli = CliArgs.parse(args, Set.of("workload", "limit", "max_len_scale", "warmup", "runs"));
        String workloadPath = cli.values.get("workload");
        if (workloadPath == null) {
            throw new dev.ember.ConfigException("--workload FILE is required (e.g. bench/throughput-256.json)");
        }
        Workload workload = Workload.read(Path.of(workloadPath));
        int limit = dev.ember.OptionValues.parseInt("limit", cli.get("limit", String.valueOf(workload.requests().size())));
        double scale = dev.ember.OptionValues.parseDouble("max_len_scale", cli.get("max_len_scale", "1"));
        EngineConfig config = cli.engineConfig();
        long loadStart = System.nanoTime();
        try (Engine engine = Engine.create(config)) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            int vocab = vocabOf(engine);
            List<Request> requests = new ArrayList<>();
            int folded = 0;
            for (int i = 0; i < Math.min(limit, workload.requests().size()); i++) {
                Workload.Item item = workload.requests().get(i);
                int promptLen = Math.max(1, (int) Math.round(item.promptTokenIds().length * scale));
                int[] prompt = new int[promptLen];
                for (int t = 0; t < promptLen; t++) {
                    int id = item.promptTokenIds()[t];
                    if (id >= vocab) {
                        folded++;
                        id %= vocab;
                    }
                    prompt[t] = id;
                }
                // sampling options on the command line (e.g. --top-p 0.9) override the workload's
                SamplingParams params = cli.sampling(SamplingParams.builder()
                        .maxTokens(Math.max(1, (int) Math.round(item.maxTokens() * scale)))
                        .temperature(workload.temperature()).ignoreEos(workload.ignoreEos()).seed((long) i));
                requests.add(Request.ofTokens(String.valueOf(i), prompt, params));
            }
            if (folded > 0) {
                err.printf("note: %d prompt token ids were >= the model's vocabulary (%d) and were folded into it%n", folded, vocab);
            }
            int warmup = dev.ember.OptionValues.parseInt("warmup", cli.get("warmup", "0"));
            int runs = dev.ember.OptionValues.parsePositiveInt("runs", cli.get("runs", "1"));
            if (warmup > 0) {
                long w0 = System.nanoTime();
                engine.generate(requests.subList(0, Math.min(warmup, requests.size())));
                err.printf("warm-up: %d requests in %.3f s%n", Math.min(warmup, requests.size()), (System.nanoTime() - w0) / 1e9);
            }
            List<Double> perRun = new ArrayList<>();
            List<Double> secondsPerRun = new ArrayList<>();
            List<Result> results = null;
            EngineMetrics before = engine.metrics();
            for (int run = 0; run < runs; run++) {
                long start = System.nanoTime();
                results = engine.generate(requests);
                double runSeconds = (System.nanoTime() - start) / 1e9;
                long runTokens = results.stream().mapToLong(Result::completionTokens).sum();
                secondsPerRun.add(round(runSeconds, 3));
                perRun.add(round(runTokens / runSeconds, 1));
                err.printf("run %d: %d output tokens in %.3f s = %.1f tok/s%n", run + 1, runTokens, runSeconds,
                        runTokens / runSeconds);
            }
            EngineMetrics after = engine.metrics();
            List<Double> sorted = new ArrayList<>(secondsPerRun);
            sorted.sort(null);
            double seconds = sorted.get(sorted.size() / 2);
            long outputTokens = results.stream().mapToLong(Result::completionTokens).sum();
            long promptTokens = results.stream().mapToLong(Result::promptTokens).sum();
            long errors = results.stream().filter(r -> !r.ok()).count();
            Runtime rt = Runtime.getRuntime();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("requests", results.size());
            figures.put("errors", errors);
            figures.put("prompt_tokens", promptTokens);
            figures.put("output_tokens", outputTokens);
            figures.put("runs", runs);
            figures.put("seconds", round(seconds, 3));
            figures.put("output_tokens_per_s", round(outputTokens / seconds, 1));
            figures.put("total_tokens_per_s", round((outputTokens + promptTokens) / seconds, 1));
            figures.put("output_tokens_per_s_each_run", perRun);
            figures.put("cached_prompt_tokens", after.cachedPromptTokens() - before.cachedPromptTokens());
            figures.put("load_seconds", round(loadSeconds, 2));
            figures.put("kv_blocks", engine.numKvBlocks());
            figures.put("preemptions", after.preemptions() - before.preemptions());
            figures.put("device", config.device());
            figures.put("backend", engine.backendDescription());
            figures.put("heap_used_mb", (rt.totalMemory() - rt.freeMemory()) >> 20);
            figures.forEach((k, v) -> out.println(k.replace('_', ' ') + ": " + v));
            try {
                out.println(new ObjectMapper().writeValueAsString(figures));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static int vocabOf(Engine engine) {
        return engine.vocabSize();
    }
}

package dev.ember.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ember.ConfigException;
import dev.ember.api.ChatMessage;
import dev.ember.engine.Engine;
import dev.ember.engine.EngineMetrics;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.sampling.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The engine's command line: generates for prompts given as arguments ({@code --prompt} or positional) or in a
 * JSONL file ({@code --prompts FILE}: each line a JSON string, or an object with "prompt" or "messages"), and prints
 * each result. Without {@code --model} it runs the built-in tiny demo model. {@code --chat} sends each plain prompt
 * as one user message through the chat template. {@code --json} prints one JSON object per result instead.
 */
public final class Generate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Generate() {
    }

    public static void main(String[] args) throws IOException {
        run(args, System.out, System.err);
    }

    /** Runs the command with its output on {@code out} and the summary line on {@code err}. */
    static void run(String[] args, PrintStream out, PrintStream err) throws IOException {
        CliArgs cli = CliArgs.parse(args, Set.of("prompt", "prompts", "json"));
        if (cli.flag("help")) {
            usage(out);
            return;
        }
        SamplingParams params = cli.sampling(SamplingParams.builder().maxTokens(32).temperature(0));
        List<Request> requests = requests(cli, params);
        if (requests.isEmpty()) {
            requests.add(Request.ofText("0", "The quick brown fox", params));
            requests.add(Request.ofText("1", "Once upon a time", params));
        }
        long start = System.nanoTime();
        try (Engine engine = Engine.create(cli.engineConfig())) {
            List<Result> results = engine.generate(requests);
            double seconds = (System.nanoTime() - start) / 1e9;
            boolean json = cli.flag("json");
            for (int i = 0; i < results.size(); i++) {
                print(out, requests.get(i), results.get(i), json);
            }
            EngineMetrics m = engine.metrics();
            err.printf("%d requests, %d prompt tokens, %d generated tokens in %.2f s (engine load %.2f s, %.1f generated tokens/s while busy)%n",
                    results.size(), m.promptTokens(), m.generatedTokens(), seconds, engine.loadSeconds(), m.tokensPerSecond());
        }
    }

    private static List<Request> requests(CliArgs cli, SamplingParams params) throws IOException {
        List<Request> out = new ArrayList<>();
        boolean chat = cli.flag("chat");
        List<String> texts = new ArrayList<>(cli.prompts);
        texts.addAll(cli.positional);
        for (String t : texts) {
            out.add(textOrChat(String.valueOf(out.size()), t, chat, params));
        }
        String file = cli.values.get("prompts");
        if (file != null) {
            int lineNo = 0;
            for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                String id = String.valueOf(out.size());
                if (node.isTextual()) {
                    out.add(textOrChat(id, node.asText(), chat, params));
                } else if (node.has("messages")) {
                    List<ChatMessage> messages = new ArrayList<>();
                    for (JsonNode m : node.get("messages")) {
                        messages.add(new ChatMessage(m.path("role").asText(null), m.path("content").asText(null)));
                    }
                    out.add(Request.ofChat(node.path("id").asText(id), messages, params));
                } else if (node.has("prompt")) {
                    out.add(textOrChat(node.path("id").asText(id), node.get("prompt").isNull() ? null : node.get("prompt").asText(), chat, params));
                } else {
                    throw new ConfigException(file + " line " + lineNo + ": expected a JSON string or an object with \"prompt\" or \"messages\"");
                }
            }
        }
        return out;
    }

    private static Request textOrChat(String id, String text, boolean chat, SamplingParams params) {
        return chat && text != null ? Request.ofChat(id, List.of(new ChatMessage("user", text)), params) : Request.ofText(id, text, params);
    }

    private static void print(PrintStream out, Request request, Result r, boolean json) {
        if (json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", r.requestId());
            o.put("text", r.text());
            o.putPOJO("token_ids", r.tokenIds());
            o.put("finish_reason", r.finishReason().wireName());
            o.put("prompt_tokens", r.promptTokens());
            o.put("completion_tokens", r.completionTokens());
            o.put("error", r.error());
            out.println(o);
            return;
        }
        String prompt = request.prompt() != null ? request.prompt()
                : request.messages() != null ? request.messages().get(request.messages().size() - 1).content() : "<token ids>";
        out.printf("[%s] %s%n  -> %s%n  (%s, %d prompt + %d generated tokens)%n", r.requestId(), prompt,
                r.ok() ? r.text() : "ERROR: " + r.error(), r.finishReason().wireName(), r.promptTokens(), r.completionTokens());
    }

    private static void usage(PrintStream out) {
        out.println("usage: Generate [--model DIR] [--prompt TEXT]... [TEXT]... [--prompts FILE.jsonl] [--chat] [--json]");
        out.println("                [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--min-p P] [--stop S]...");
        out.println("                [--request-seed N] [--logprobs N] [--ignore-eos] [engine options: --device cpu|cuda, --max-num-seqs N, ...]");
        out.println("                [--guided-choice '[\"a\",\"b\"]' | --guided-choice a,b | --guided-regex RE | --guided-json FILE"
                + " | --return-type 'STRUCT<label: STRING, score: INT>']");
        out.println("options (the names of conf/engine.properties and of the Spark connector):");
        CliArgs.OPTIONS.all().forEach(o -> out.printf("  --%-24s %s%n", o.name().replace('_', '-'), o.describe()));
    }
}

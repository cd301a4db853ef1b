package dev.ember.template;

import dev.ember.LlmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed Hugging Face chat template (the {@code chat_template} of tokenizer_config.json), rendered the
 * way transformers' {@code apply_chat_template} renders it: jinja2's ImmutableSandboxedEnvironment with
 * trim_blocks and lstrip_blocks, loop controls, {@code raise_exception}, {@code strftime_now} and a
 * {@code tojson} filter that keeps non-ASCII text and key order.
 *
 * <p>Sandbox: a template sees only the values passed in (maps, lists, strings, numbers, booleans, null,
 * copied on entry) and a fixed set of builtins; it reaches no Java object, method, class, file or
 * environment variable. Each rendering is bounded by {@link RenderLimits} (steps, output size, time).
 *
 * <p>Immutable and thread-safe once parsed; each {@code render} call works on its own state.
 */
public final class ChatTemplate {
    private final String source;
    private final SourceMap sourceMap;
    private final List<Stmt> body;
    private final RenderLimits limits;

    private ChatTemplate(String source, SourceMap sourceMap, List<Stmt> body, RenderLimits limits) {
        this.source = source;
        this.sourceMap = sourceMap;
        this.body = body;
        this.limits = limits;
    }

    /**
     * Parses a template.
     *
     * @throws TemplateSyntaxException with the line:column of the first syntax error
     */
    public static ChatTemplate parse(String source) {
        Objects.requireNonNull(source, "source");
        String normalized = Lexer.normalize(source);
        SourceMap map = new SourceMap(normalized);
        List<Stmt> body = Parser.parse(Lexer.tokenize(normalized, map), map);
        return new ChatTemplate(source, map, body, RenderLimits.DEFAULT);
    }

    /** The same template rendered under other limits. */
    public ChatTemplate withLimits(RenderLimits limits) {
        return new ChatTemplate(source, sourceMap, body, Objects.requireNonNull(limits, "limits"));
    }

    /** The template text as given to {@link #parse}. */
    public String source() {
        return source;
    }

    /**
     * Renders with exactly these variables (plus the builtins).
     *
     * @param context values of type Map, List, String, Number, Boolean or null, nested freely
     * @throws TemplateException when rendering fails, the template raises, or a limit is reached
     */
    public String render(Map<String, Object> context) {
        Objects.requireNonNull(context, "context");
        Map<String, Object> converted = new HashMap<>();
        context.forEach((k, v) -> converted.put(k, Values.fromJava(v, k)));
        Renderer renderer = new Renderer(new Budget(limits), sourceMap);
        try {
            return renderer.render(body, Renderer.rootScope(converted));
        } catch (LlmException e) {
            throw e;
        } catch (StackOverflowError e) {
            // a value the template built nests too deeply to print or compare (Python: RecursionError)
            throw new TemplateException("RecursionError: maximum recursion depth exceeded while rendering", e);
        } catch (RuntimeException e) {
            // a bug in this renderer, not in the template: keep the cause, name the case
            throw new TemplateException("chat template rendering failed unexpectedly: " + e, e);
        }
    }

    /**
     * Renders a conversation as {@code apply_chat_template(messages, add_generation_prompt=...,
     * tokenize=False, **extra)} does: variables {@code messages}, {@code add_generation_prompt},
     * {@code bos_token}/{@code eos_token} (left undefined when null, as transformers leaves unset special
     * tokens out), {@code tools} and {@code documents} (None unless given in extra), and every other
     * entry of {@code extra} (e.g. enable_thinking, date_string, or further special tokens such as
     * pad_token) as a variable of its own; extra may override bos_token and eos_token.
     *
     * @param messages each with "role" and usually "content"; tool calls etc. as nested maps and lists
     * @param extra    may be null
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, String bosToken,
                         String eosToken, Map<String, Object> extra) {
        Objects.requireNonNull(messages, "messages");
        Map<String, Object> context = new HashMap<>();
        if (bosToken != null) {
            context.put("bos_token", bosToken);
        }
        if (eosToken != null) {
            context.put("eos_token", eosToken);
        }
        if (extra != null) {
            for (String reserved : List.of("messages", "add_generation_prompt")) {
                if (extra.containsKey(reserved)) {
                    throw new TemplateException("extra template variables must not contain '" + reserved
                            + "'; pass it as the argument of render instead");
                }
            }
            context.putAll(extra);
        }
        context.putIfAbsent("tools", null);
        context.putIfAbsent("documents", null);
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        return render(context);
    }
}

/**
 * A sandboxed renderer for the Jinja subset that Hugging Face chat templates use, producing byte for byte
 * what transformers' {@code apply_chat_template} produces.
 *
 * <p>Entry point: {@link dev.ember.template.ChatTemplate}. Pipeline: {@code Lexer} (jinja2's whitespace
 * rules) → {@code Parser}/{@code ExprParser} (AST of {@code Stmt} and {@code Expr}) → {@code Renderer}/
 * {@code Evaluator} with Python value semantics ({@code PyOps}, {@code PyArith}, {@code PyFormat},
 * {@code PyStr}), jinja2's filters and tests, and transformers' globals ({@code Builtins}).
 *
 * <p>Not supported (a parse error names them): include/import/extends/block, recursive loops, *args in
 * calls, filters outside the listed set. Known differences from jinja2 that chat templates do not rely on:
 * integers are 64-bit; select/map/etc. return lists (jinja2 prints generator objects); {@code dict.items()}
 * prints as a list; {@code escape} returns a plain string (no Markup arithmetic); {@code loop.depth} is 1.
 */
package dev.ember.template;

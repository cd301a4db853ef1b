package dev.ember.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared Qwen tokenizer fixture: {@code -Dember.fixtures=DIR} (as the guided tests read it), else
 * {@code ../../shared/fixtures}; null when absent, and tests that need it skip.
 */
public final class QwenFixture {
    private QwenFixture() {
    }

    public static Path dir() {
        Path base = Path.of(System.getProperty("ember.fixtures", Path.of("..", "..", "shared", "fixtures").toString()));
        Path dir = base.resolve("qwen-tokenizer");
        return Files.isRegularFile(dir.resolve("tokenizer.json")) ? dir : null;
    }
}

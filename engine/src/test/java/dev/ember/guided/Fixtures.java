package dev.ember.guided;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shared test fixtures are: {@code -Dember.fixtures=DIR}, else {@code ../../shared/fixtures}. */
final class Fixtures {
    private Fixtures() {
    }

    /** The Qwen tokenizer fixture directory, or null when absent (tests that need it skip). */
    static Path qwenTokenizer() {
        Path base = Path.of(System.getProperty("ember.fixtures", Path.of("..", "..", "shared", "fixtures").toString()));
        Path dir = base.resolve("qwen-tokenizer");
        return Files.isRegularFile(dir.resolve("tokenizer.json")) ? dir : null;
    }
}

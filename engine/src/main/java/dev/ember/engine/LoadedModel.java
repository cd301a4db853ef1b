package dev.ember.engine;

import dev.ember.ModelFormatException;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.tokenizer.Tokenizer;
import dev.ember.weights.Checkpoint;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.model.WeightLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A checkpoint directory opened for inference: configuration, memory-mapped weights (validated against the
 * configuration) and tokenizer. Owns the mapped files and the native tokenizer; closing releases both (idempotent).
 *
 * <p>The tokenizer loads on a thread of its own while the caller builds the backend (a 150k-token tokenizer.json
 * takes 0.3-0.7 s to parse, which would otherwise add to every engine start); {@link #tokenizer()} waits for it.
 */
final class LoadedModel implements AutoCloseable {
    final ModelConfig config;
    final Checkpoint checkpoint;
    final ModelWeights weights;
    private final CompletableFuture<Tokenizer> tokenizer;
    private boolean closed;

    private LoadedModel(ModelConfig config, Checkpoint checkpoint, ModelWeights weights,
                        CompletableFuture<Tokenizer> tokenizer) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.weights = weights;
        this.tokenizer = tokenizer;
    }

    static LoadedModel open(Path dir) {
        requireDirectory(dir);
        ModelConfig config = ModelConfigLoader.load(dir);
        Checkpoint checkpoint = SafetensorsCheckpoint.open(dir);
        try {
            ModelWeights weights = WeightLoader.load(config, checkpoint);
            CompletableFuture<Tokenizer> tokenizer = CompletableFuture.supplyAsync(() -> Tokenizer.load(dir), task -> {
                Thread t = new Thread(task, "ember-tokenizer-load");
                t.setDaemon(true);
                t.start();
            });
            return new LoadedModel(config, checkpoint, weights, tokenizer);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * What {@link #open} checks, without the tokenizer's native library and without keeping anything open: the
     * configuration, every tensor's name and shape (headers only; the data is mapped, not read), and that
     * tokenizer.json exists. Cheap enough for a Spark driver to run at planning time.
     */
    static ModelConfig check(Path dir) {
        requireDirectory(dir);
        ModelConfig config = ModelConfigLoader.load(dir);
        try (Checkpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            WeightLoader.load(config, checkpoint);
        }
        if (!Files.isRegularFile(dir.resolve(ModelConfigLoader.TOKENIZER))) {
            throw new ModelFormatException("model directory " + dir + " has no " + ModelConfigLoader.TOKENIZER
                    + "; Ember tokenizes with the checkpoint's Hugging Face tokenizer file");
        }
        return config;
    }

    private static void requireDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model directory " + dir + " does not exist; pass a local checkpoint directory"
                    + " holding config.json, *.safetensors and tokenizer.json");
        }
    }

    /** The tokenizer, once loaded; rethrows its load's failure (a bad tokenizer.json) as {@link Tokenizer#load} threw it. */
    Tokenizer tokenizer() {
        try {
            return tokenizer.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                // a load still running finishes first, so its native tokenizer is not leaked
                Tokenizer t = tokenizer.exceptionally(failed -> null).join();
                if (t != null) {
                    t.close();
                }
            } finally {
                checkpoint.close();
            }
        }
    }
}

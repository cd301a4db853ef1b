package dev.ember.weights;

import java.util.Set;

/**
 * The tensors of a checkpoint by their Hugging Face names (e.g. {@code model.layers.0.self_attn.q_proj.weight}).
 * Owns the mapped files; views it hands out are valid until {@link #close()}. Thread-safe for reads.
 */
public interface Checkpoint extends AutoCloseable {
    /** The tensor, or a {@code ModelFormatException} naming the file(s) and the missing name. */
    TensorView tensor(String name);

    boolean contains(String name);

    Set<String> names();

    /** Where the tensors came from, for messages (a file or directory path). */
    String source();

    @Override
    void close();
}

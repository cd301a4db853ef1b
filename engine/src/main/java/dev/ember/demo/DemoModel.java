package dev.ember.demo;

import dev.ember.model.Architecture;
import dev.ember.weights.DType;

import java.nio.file.Path;
import java.util.List;

/**
 * The built-in tiny demo model the CLI and the Spark quick start use when no model is given: the
 * {@link DemoTokenizer} plus a 2-layer Qwen2-shaped {@link RandomCheckpoint} (hidden 64, 4 query heads and
 * 2 KV heads of 16, intermediate 128, tied BF16 embeddings, 2048 positions), vocabulary
 * {@value #VOCAB_SIZE} (the tokenizer's {@value DemoTokenizer#VOCAB_SIZE} ids rounded up to 64, the padding
 * rows zero), EOS {@code <|im_end|>} and {@code <|endoftext|>}. Its output is random text, but it runs
 * every code path a real Qwen2 checkpoint does. The same bytes are written every time, in well under a second.
 */
public final class DemoModel {
    public static final int VOCAB_SIZE = RandomCheckpoint.Spec.DEFAULT_VOCAB_SIZE;
    public static final long SEED = 20240917L;

    private DemoModel() {
    }

    /** The spec of the demo model's weights and config. */
    public static RandomCheckpoint.Spec spec() {
        return RandomCheckpoint.Spec.builder(Architecture.QWEN2)
                .vocabSize(VOCAB_SIZE)
                .usedVocabSize(DemoTokenizer.VOCAB_SIZE)
                .maxPositionEmbeddings(2048)
                .ropeTheta(1_000_000)
                .tieWordEmbeddings(true)
                .dtype(DType.BF16)
                .seed(SEED)
                .bosTokenId(DemoTokenizer.ENDOFTEXT_ID)
                .eosTokenIds(List.of(DemoTokenizer.IM_END_ID, DemoTokenizer.ENDOFTEXT_ID))
                .withTokenizer(true)
                .build();
    }

    /** Writes the demo model into {@code dir} (created if needed) and returns {@code dir}. */
    public static Path write(Path dir) {
        return RandomCheckpoint.write(dir, spec());
    }
}

package dev.ember.cli;

import dev.ember.ConfigException;
import dev.ember.model.Architecture;
import dev.ember.demo.RandomCheckpoint;
import dev.ember.weights.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Writes a random checkpoint of a real architecture's shape, for benchmarks and manual runs (no weights can be
 * downloaded here). {@code --preset tiny-qwen2 | tiny-qwen3 | tiny-llama | qwen2.5-0.5b}, {@code --out DIR},
 * optionally {@code --tokenizer DIR} to copy a real tokenizer.json / tokenizer_config.json beside the weights
 * (otherwise the demo tokenizer is written, which covers only the first ids of a large vocabulary).
 */
public final class MakeCheckpoint {
    private MakeCheckpoint() {
    }

    public static void main(String[] args) throws IOException {
        String preset = "tiny-qwen2";
        Path out = null;
        Path tokenizer = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--preset" -> preset = args[i + 1].toLowerCase(Locale.ROOT);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--tokenizer" -> tokenizer = Path.of(args[i + 1]);
                default -> throw new ConfigException("unknown option " + args[i] + "; known: --preset, --out, --tokenizer");
            }
        }
        if (out == null) {
            throw new ConfigException("--out DIR is required");
        }
        RandomCheckpoint.Spec spec = spec(preset, tokenizer == null);
        long start = System.nanoTime();
        RandomCheckpoint.write(out, spec);
        if (tokenizer != null) {
            for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
                Files.copy(tokenizer.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.printf(Locale.ROOT, "wrote %s (%s) to %s in %.1f s%n", preset, spec.architecture().hfName(), out,
                (System.nanoTime() - start) / 1e9);
    }

    static RandomCheckpoint.Spec spec(String preset, boolean demoTokenizer) {
        return switch (preset) {
            case "tiny-qwen2" -> RandomCheckpoint.Spec.tiny(Architecture.QWEN2);
            case "tiny-qwen3" -> RandomCheckpoint.Spec.tiny(Architecture.QWEN3);
            case "tiny-llama" -> RandomCheckpoint.Spec.tiny(Architecture.LLAMA);
            // Qwen2.5-0.5B's published shape: 24 layers, hidden 896, 14 query heads and 2 KV heads of 64, tied embeddings
            case "qwen2.5-0.5b" -> RandomCheckpoint.Spec.builder(Architecture.QWEN2).vocabSize(151936).hiddenSize(896)
                    .intermediateSize(4864).numLayers(24).numHeads(14).numKvHeads(2).headDim(64).rmsNormEps(1e-6)
                    .ropeTheta(1_000_000).maxPositionEmbeddings(32768).tieWordEmbeddings(true).dtype(DType.BF16)
                    .std(0.02).embeddingStd(0.02).bosTokenId(151643).eosTokenIds(List.of(151645, 151643))
                    .withTokenizer(demoTokenizer).build();
            default -> throw ConfigException.invalid("--preset", preset, "tiny-qwen2, tiny-qwen3, tiny-llama, qwen2.5-0.5b");
        };
    }
}

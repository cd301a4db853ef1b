package dev.ember.demo;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.ember.ConfigException;
import dev.ember.LlmException;
import dev.ember.model.Architecture;
import dev.ember.model.ModelConfig;
import dev.ember.model.ModelConfigLoader;
import dev.ember.model.RopeScaling;
import dev.ember.weights.DType;
import dev.ember.weights.SafetensorsCheckpoint;
import dev.ember.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a complete, loadable model directory with seeded random weights: {@code config.json} with the keys
 * transformers writes for the architecture, {@code generation_config.json}, {@code model.safetensors} (or shards
 * plus {@code model.safetensors.index.json}) and, unless the spec says otherwise, the {@link DemoTokenizer}
 * files. For tests of every part, the CLI's demo model and benchmarks.
 *
 * <p>Weights: embeddings and an untied lm_head ~ N(0, embeddingStd) (rows from {@code usedVocabSize} on are
 * zero, like the padding rows of a real vocabulary), projections and biases ~ N(0, std), norm weights
 * ~ 1 + N(0, normStd). Each tensor's values depend only on (seed, tensor name), not on dtype or sharding, and
 * are the same on every JVM (SplitMix64 and {@link StrictMath}). One tensor is in memory at a time while writing.
 */
public final class RandomCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    /**
     * What to write. Immutable; validated on construction. Defaults ({@link #builder()}): a 2-layer Qwen2 with
     * hidden 64, 4 heads of 16, 2 KV heads, intermediate 128, vocabulary 704 (the demo tokenizer's 643 ids
     * rounded up to a multiple of 64), 512 positions, tied embeddings, BF16 storage, one file, seed 42,
     * std 0.2 (projections), 0.5 (embeddings), 0.05 (norm noise), bos = {@code <|endoftext|>},
     * eos = [{@code <|im_end|>}, {@code <|endoftext|>}], and the demo tokenizer written alongside.
     *
     * @param attentionBias q/k/v biases; always true for Qwen2, optional for Llama and Qwen3 (which then also get
     *                      an all-zero o_proj bias, as transformers would save one)
     * @param numShards     1 writes model.safetensors; more write that many shards plus the index
     * @param usedVocabSize embedding and lm_head rows from here on are zero (padding ids); = vocabSize when 0
     * @param bosTokenId    -1 for none
     * @param withTokenizer also write the {@link DemoTokenizer} (needs vocabSize >= {@link DemoTokenizer#VOCAB_SIZE})
     */
    public record Spec(Architecture architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                       RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings,
                       boolean attentionBias, DType dtype, int numShards, long seed, double std, double embeddingStd,
                       double normStd, int usedVocabSize, int bosTokenId, List<Integer> eosTokenIds,
                       boolean withTokenizer) {
        /** Vocabulary of the default spec and the demo model: the demo tokenizer's ids rounded up to 64. */
        public static final int DEFAULT_VOCAB_SIZE = (DemoTokenizer.VOCAB_SIZE + 63) / 64 * 64;

        public Spec {
            Objects.requireNonNull(architecture, "architecture");
            Objects.requireNonNull(dtype, "dtype");
            positive("vocabSize", vocabSize);
            positive("hiddenSize", hiddenSize);
            positive("intermediateSize", intermediateSize);
            positive("numLayers", numLayers);
            positive("numHeads", numHeads);
            positive("numKvHeads", numKvHeads);
            positive("headDim", headDim);
            positive("maxPositionEmbeddings", maxPositionEmbeddings);
            positive("numShards", numShards);
            if (numHeads % numKvHeads != 0) {
                throw ConfigException.invalid("numKvHeads", numKvHeads, "a divisor of numHeads=" + numHeads);
            }
            if (headDim % 2 != 0) {
                throw ConfigException.invalid("headDim", headDim, "an even number (rotary pairs)");
            }
            if (ropeScaling != null && architecture != Architecture.LLAMA) {
                throw ConfigException.invalid("ropeScaling", ropeScaling, "null for " + architecture.hfName()
                        + " (llama3 scaling is a Llama feature)");
            }
            if (!(std >= 0) || !(embeddingStd >= 0) || !(normStd >= 0)) {
                throw ConfigException.invalid("std/embeddingStd/normStd", std + "/" + embeddingStd + "/" + normStd,
                        "non-negative numbers");
            }
            if (usedVocabSize == 0) {
                usedVocabSize = vocabSize;
            }
            if (usedVocabSize < 0 || usedVocabSize > vocabSize) {
                throw ConfigException.invalid("usedVocabSize", usedVocabSize, "0 (all) or 1.." + vocabSize);
            }
            if (bosTokenId < -1 || bosTokenId >= vocabSize) {
                throw ConfigException.invalid("bosTokenId", bosTokenId, "-1 (none) or 0.." + (vocabSize - 1));
            }
            eosTokenIds = List.copyOf(eosTokenIds);
            for (int id : eosTokenIds) {
                if (id < 0 || id >= vocabSize) {
                    throw ConfigException.invalid("eosTokenIds", eosTokenIds, "ids in 0.." + (vocabSize - 1));
                }
            }
            if (withTokenizer && vocabSize < DemoTokenizer.VOCAB_SIZE) {
                throw ConfigException.invalid("vocabSize", vocabSize, "at least " + DemoTokenizer.VOCAB_SIZE
                        + " with withTokenizer=true (the demo tokenizer's ids), or withTokenizer=false");
            }
            if (architecture == Architecture.QWEN2) {
                attentionBias = true;
            }
            int perLayer = 9 + (attentionBias ? (architecture == Architecture.QWEN2 ? 3 : 4) : 0)
                    + (architecture == Architecture.QWEN3 ? 2 : 0);
            int numTensors = 2 + numLayers * perLayer + (tieWordEmbeddings ? 0 : 1);
            if (numShards > numTensors) {
                throw ConfigException.invalid("numShards", numShards, "1.." + numTensors + " (one tensor per shard at least)");
            }
        }

        /** The defaults described above. */
        public static Builder builder() {
            return new Builder();
        }

        /**
         * Defaults shaped like the architecture's small real models: Qwen2 as above; Qwen3 with head_dim 32
         * (not hidden / heads, as Qwen3 does) and q/k norms; Llama untied, rope_theta 500000 and a llama3
         * rope_scaling block (factor 8, low 1, high 4, original 128 positions).
         */
        public static Builder builder(Architecture architecture) {
            Builder b = new Builder().architecture(architecture);
            switch (architecture) {
                case QWEN2 -> { }
                case QWEN3 -> b.headDim(32).ropeTheta(1_000_000);
                case LLAMA -> b.tieWordEmbeddings(false).rmsNormEps(1e-5).ropeTheta(500_000)
                        .ropeScaling(new RopeScaling(8.0, 1.0, 4.0, 128));
            }
            return b;
        }

        /** {@code builder(architecture).build()}. */
        public static Spec tiny(Architecture architecture) {
            return builder(architecture).build();
        }

        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The {@link ModelConfig} that {@link ModelConfigLoader} reads back from what this spec writes. */
        public ModelConfig toModelConfig() {
            return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads,
                    numKvHeads, headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings,
                    attentionBias, architecture == Architecture.QWEN3, HfConfigJson.torchDtype(dtype), bosTokenId,
                    Set.copyOf(eosTokenIds));
        }

        private static void positive(String name, int value) {
            if (value <= 0) {
                throw ConfigException.invalid(name, value, "a positive integer");
            }
        }
    }

    /** Mutable builder of a {@link Spec}; starts from the defaults. */
    public static final class Builder {
        private Architecture architecture = Architecture.QWEN2;
        private int vocabSize = Spec.DEFAULT_VOCAB_SIZE;
        private int hiddenSize = 64;
        private int intermediateSize = 128;
        private int numLayers = 2;
        private int numHeads = 4;
        private int numKvHeads = 2;
        private int headDim = 16;
        private double rmsNormEps = 1e-6;
        private double ropeTheta = 10_000;
        private RopeScaling ropeScaling;
        private int maxPositionEmbeddings = 512;
        private boolean tieWordEmbeddings = true;
        private boolean attentionBias;
        private DType dtype = DType.BF16;
        private int numShards = 1;
        private long seed = 42;
        private double std = 0.2;
        private double embeddingStd = 0.5;
        private double normStd = 0.05;
        private int usedVocabSize;
        private int bosTokenId = DemoTokenizer.ENDOFTEXT_ID;
        private List<Integer> eosTokenIds = List.of(DemoTokenizer.IM_END_ID, DemoTokenizer.ENDOFTEXT_ID);
        private boolean withTokenizer = true;

        private Builder() {
        }

        private Builder(Spec s) {
            architecture = s.architecture;
            vocabSize = s.vocabSize;
            hiddenSize = s.hiddenSize;
            intermediateSize = s.intermediateSize;
            numLayers = s.numLayers;
            numHeads = s.numHeads;
            numKvHeads = s.numKvHeads;
            headDim = s.headDim;
            rmsNormEps = s.rmsNormEps;
            ropeTheta = s.ropeTheta;
            ropeScaling = s.ropeScaling;
            maxPositionEmbeddings = s.maxPositionEmbeddings;
            tieWordEmbeddings = s.tieWordEmbeddings;
            attentionBias = s.attentionBias;
            dtype = s.dtype;
            numShards = s.numShards;
            seed = s.seed;
            std = s.std;
            embeddingStd = s.embeddingStd;
            normStd = s.normStd;
            usedVocabSize = s.usedVocabSize == s.vocabSize ? 0 : s.usedVocabSize;
            bosTokenId = s.bosTokenId;
            eosTokenIds = s.eosTokenIds;
            withTokenizer = s.withTokenizer;
        }

        public Builder architecture(Architecture v) { architecture = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder numLayers(int v) { numLayers = v; return this; }
        public Builder numHeads(int v) { numHeads = v; return this; }
        public Builder numKvHeads(int v) { numKvHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder ropeScaling(RopeScaling v) { ropeScaling = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }
        public Builder dtype(DType v) { dtype = v; return this; }
        public Builder numShards(int v) { numShards = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder std(double v) { std = v; return this; }
        public Builder embeddingStd(double v) { embeddingStd = v; return this; }
        public Builder normStd(double v) { normStd = v; return this; }
        public Builder usedVocabSize(int v) { usedVocabSize = v; return this; }
        public Builder bosTokenId(int v) { bosTokenId = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder withTokenizer(boolean v) { withTokenizer = v; return this; }

        public Spec build() {
            return new Spec(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                    headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings,
                    attentionBias, dtype, numShards, seed, std, embeddingStd, normStd, usedVocabSize, bosTokenId,
                    eosTokenIds, withTokenizer);
        }
    }

    private RandomCheckpoint() {
    }

    /** Writes the model described by {@code spec} into {@code dir} (created if needed) and returns {@code dir}. */
    public static Path write(Path dir, Spec spec) {
        try {
            Files.createDirectories(dir);
            writeJson(dir.resolve(ModelConfigLoader.CONFIG), HfConfigJson.config(spec));
            writeJson(dir.resolve(ModelConfigLoader.GENERATION_CONFIG), HfConfigJson.generationConfig(spec));
        } catch (IOException e) {
            throw new LlmException("cannot write a random checkpoint to " + dir + ": " + e.getMessage(), e);
        }
        writeWeights(dir, spec);
        if (spec.withTokenizer()) {
            DemoTokenizer.write(dir);
        }
        return dir;
    }

    /** The tensors a transformers checkpoint of this spec holds, in model order (embeddings first). */
    static List<RandomTensor> tensors(Spec s) {
        List<RandomTensor> out = new ArrayList<>();
        long vocab = s.vocabSize();
        long hidden = s.hiddenSize();
        long qOut = (long) s.numHeads() * s.headDim();
        long kvOut = (long) s.numKvHeads() * s.headDim();
        long inter = s.intermediateSize();
        out.add(new RandomTensor("model.embed_tokens.weight", RandomTensor.Kind.EMBEDDING, vocab, hidden));
        for (int i = 0; i < s.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            out.add(new RandomTensor(p + "input_layernorm.weight", RandomTensor.Kind.NORM, hidden));
            out.add(new RandomTensor(p + "self_attn.q_proj.weight", RandomTensor.Kind.LINEAR, qOut, hidden));
            out.add(new RandomTensor(p + "self_attn.k_proj.weight", RandomTensor.Kind.LINEAR, kvOut, hidden));
            out.add(new RandomTensor(p + "self_attn.v_proj.weight", RandomTensor.Kind.LINEAR, kvOut, hidden));
            if (s.attentionBias()) {
                out.add(new RandomTensor(p + "self_attn.q_proj.bias", RandomTensor.Kind.LINEAR, qOut));
                out.add(new RandomTensor(p + "self_attn.k_proj.bias", RandomTensor.Kind.LINEAR, kvOut));
                out.add(new RandomTensor(p + "self_attn.v_proj.bias", RandomTensor.Kind.LINEAR, kvOut));
            }
            if (s.architecture() == Architecture.QWEN3) {
                out.add(new RandomTensor(p + "self_attn.q_norm.weight", RandomTensor.Kind.NORM, s.headDim()));
                out.add(new RandomTensor(p + "self_attn.k_norm.weight", RandomTensor.Kind.NORM, s.headDim()));
            }
            out.add(new RandomTensor(p + "self_attn.o_proj.weight", RandomTensor.Kind.LINEAR, hidden, qOut));
            if (s.attentionBias() && s.architecture() != Architecture.QWEN2) {
                // transformers gives Llama/Qwen3 o_proj a bias too when attention_bias is set; zeros keep the
                // checkpoint's output identical with and without it (Ember applies none)
                out.add(new RandomTensor(p + "self_attn.o_proj.bias", RandomTensor.Kind.ZERO, hidden));
            }
            out.add(new RandomTensor(p + "post_attention_layernorm.weight", RandomTensor.Kind.NORM, hidden));
            out.add(new RandomTensor(p + "mlp.gate_proj.weight", RandomTensor.Kind.LINEAR, inter, hidden));
            out.add(new RandomTensor(p + "mlp.up_proj.weight", RandomTensor.Kind.LINEAR, inter, hidden));
            out.add(new RandomTensor(p + "mlp.down_proj.weight", RandomTensor.Kind.LINEAR, hidden, inter));
        }
        out.add(new RandomTensor("model.norm.weight", RandomTensor.Kind.NORM, hidden));
        if (!s.tieWordEmbeddings()) {
            out.add(new RandomTensor("lm_head.weight", RandomTensor.Kind.EMBEDDING, vocab, hidden));
        }
        return out;
    }

    /** The values {@code write} stores for tensor {@code name} of {@code spec}, before dtype rounding. */
    public static float[] values(Spec spec, String name) {
        for (RandomTensor t : tensors(spec)) {
            if (t.name().equals(name)) {
                return t.generate(spec);
            }
        }
        throw new IllegalArgumentException("a " + spec.architecture().hfName() + " checkpoint of this spec has no tensor '"
                + name + "'");
    }

    private static void writeWeights(Path dir, Spec spec) {
        List<RandomTensor> tensors = tensors(spec);
        int shards = spec.numShards();
        if (shards == 1) {
            SafetensorsWriter writer = new SafetensorsWriter();
            for (RandomTensor t : tensors) {
                writer.add(t.name(), spec.dtype(), t.shape(), () -> t.generate(spec));
            }
            writer.write(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE));
            return;
        }
        // contiguous runs of tensors in model order, as transformers' save_pretrained fills shards
        Map<String, String> weightMap = new TreeMap<>();
        long totalBytes = 0;
        for (int k = 0; k < shards; k++) {
            String file = String.format("model-%05d-of-%05d.safetensors", k + 1, shards);
            SafetensorsWriter writer = new SafetensorsWriter();
            for (RandomTensor t : tensors.subList(k * tensors.size() / shards, (k + 1) * tensors.size() / shards)) {
                writer.add(t.name(), spec.dtype(), t.shape(), () -> t.generate(spec));
                weightMap.put(t.name(), file);
                totalBytes += t.numElements() * spec.dtype().sizeBytes();
            }
            writer.write(dir.resolve(file));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", totalBytes));
        index.put("weight_map", weightMap);
        try {
            writeJson(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), index);
        } catch (IOException e) {
            throw new LlmException("cannot write " + SafetensorsCheckpoint.INDEX_FILE + " to " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    private static void writeJson(Path file, Object value) throws IOException {
        Files.writeString(file, PRETTY.writeValueAsString(value) + "\n", StandardCharsets.UTF_8);
    }
}

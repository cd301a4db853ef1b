package dev.ember.weights;

import dev.ember.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    private static void write(Path file, String... names) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int i = 0; i < names.length; i++) {
            w.add(names[i], DType.F32, new long[] {2}, new float[] {i, 10 + i});
        }
        w.write(file);
    }

    private void index(String weightMapJson) throws Exception {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\": {\"total_size\": 32}, \"weight_map\": " + weightMapJson + "}");
    }

    private ModelFormatException fails(Path path) {
        return assertThrows(ModelFormatException.class, () -> SafetensorsCheckpoint.open(path).close());
    }

    @Test
    void singleModelFile() {
        write(dir.resolve("model.safetensors"), "a", "b");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(dir.resolve("model.safetensors").toString(), c.source());
            assertEquals(List.of("a", "b"), List.copyOf(c.names()));
            assertEquals(11f, c.tensor("b").get(1));
            assertTrue(c.contains("a"));
            assertFalse(c.contains("c"));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> c.tensor("c"));
            assertEquals("tensor 'c' is missing from " + dir.resolve("model.safetensors"), e.getMessage());
        }
    }

    @Test
    void singleOtherFileAndAFilePath() {
        Path file = dir.resolve("weights.safetensors");
        write(file, "x");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(file.toString(), c.source());
            assertEquals(10f, c.tensor("x").get(1));
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertEquals(List.of("x"), List.copyOf(c.names()));
        }
    }

    @Test
    void shardedThroughTheIndex() throws Exception {
        write(dir.resolve("model-00001-of-00002.safetensors"), "a", "b");
        write(dir.resolve("model-00002-of-00002.safetensors"), "c", "unlisted");
        index("{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\","
                + " \"c\": \"model-00002-of-00002.safetensors\"}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(dir.resolve("model.safetensors.index.json").toString(), c.source());
            assertEquals(List.of("a", "b", "c"), List.copyOf(c.names()));
            assertEquals(0f, c.tensor("a").get(0));
            assertEquals(11f, c.tensor("b").get(1));
            assertEquals(0f, c.tensor("c").get(0)); // first tensor of the second shard
            assertFalse(c.contains("unlisted"));
        }
    }

    /**
     * With both model.safetensors and an index in one directory, transformers loads model.safetensors: its
     * PreTrainedModel.from_pretrained tests for SAFE_WEIGHTS_NAME before SAFE_WEIGHTS_INDEX_NAME. Ember must read the
     * same weights, not the shards (here holding other values).
     */
    @Test
    void singleFileWinsOverAnIndexAsInTransformers() throws Exception {
        write(dir.resolve("model-00001-of-00001.safetensors"), "shard", "a");
        index("{\"a\": \"model-00001-of-00001.safetensors\"}");
        write(dir.resolve("model.safetensors"), "a");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(dir.resolve("model.safetensors").toString(), c.source());
            assertEquals(List.of("a"), List.copyOf(c.names()));
            assertEquals(10f, c.tensor("a").get(1)); // the shard's 'a' holds {1, 11}
        }
    }

    /**
     * transformers loads every tensor of every shard the index lists (load_state_dict per shard file), so a name held
     * by two shards is loaded twice and the later shard wins, whatever weight_map says; vLLM likewise reads all the
     * listed files. Which copy is meant is unknowable, so a tensor found in a shard other than its own fails.
     */
    @Test
    void aTensorInTwoShardsIsRefused() throws Exception {
        write(dir.resolve("model-00001-of-00002.safetensors"), "a", "b");
        write(dir.resolve("model-00002-of-00002.safetensors"), "c", "a");
        index("{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\","
                + " \"c\": \"model-00002-of-00002.safetensors\"}");
        assertEquals("tensor 'a' is in " + dir.resolve("model-00002-of-00002.safetensors") + " as well as in"
                + " model-00001-of-00002.safetensors, where " + dir.resolve("model.safetensors.index.json")
                + " places it; transformers would load both copies (the later shard wins)", fails(dir).getMessage());
        // one shard named in two spellings is still one file
        index("{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"./model-00001-of-00002.safetensors\"}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("a", "b"), List.copyOf(c.names()));
        }
    }

    @Test
    void missingShard() throws Exception {
        write(dir.resolve("model-00001-of-00002.safetensors"), "a");
        index("{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}");
        assertEquals("shard file " + dir.resolve("model-00002-of-00002.safetensors") + " (for tensor 'b', listed in "
                + dir.resolve("model.safetensors.index.json") + ") does not exist", fails(dir).getMessage());
    }

    @Test
    void tensorListedButAbsentFromItsShard() throws Exception {
        write(dir.resolve("model-00001-of-00001.safetensors"), "a");
        index("{\"a\": \"model-00001-of-00001.safetensors\", \"ghost\": \"model-00001-of-00001.safetensors\"}");
        assertEquals("tensor 'ghost' is listed in " + dir.resolve("model.safetensors.index.json")
                + " as being in model-00001-of-00001.safetensors, but "
                + dir.resolve("model-00001-of-00001.safetensors") + " does not contain it", fails(dir).getMessage());
    }

    @Test
    void malformedIndex() throws Exception {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": ");
        assertTrue(fails(dir).getMessage().startsWith(index + " is not valid JSON: "));
        // transformers reads the index with json.load, which raises "Extra data" on a second object
        Files.writeString(index, "{\"weight_map\": {\"a\": \"s.safetensors\"}} {\"weight_map\": {\"b\": \"t.safetensors\"}}");
        assertTrue(fails(dir).getMessage().startsWith(index + " is not valid JSON: Trailing token"), fails(dir).getMessage());
        Files.writeString(index, "{\"metadata\": {}}");
        assertEquals(index + " has no 'weight_map' object mapping tensor names to shard files", fails(dir).getMessage());
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertEquals("tensor 'a' in " + index + " maps to 3; expected a shard file name", fails(dir).getMessage());
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../outside.safetensors\"}}");
        assertEquals("shard '../outside.safetensors' for tensor 'a' in " + index
                + " points outside the checkpoint directory", fails(dir).getMessage());
    }

    @Test
    void badShardFileIsNamed() throws Exception {
        Files.write(dir.resolve("model-00001-of-00001.safetensors"), new byte[3]);
        index("{\"a\": \"model-00001-of-00001.safetensors\"}");
        assertEquals("safetensors file " + dir.resolve("model-00001-of-00001.safetensors")
                + " is 3 bytes; too short for the 8-byte header length (truncated?)", fails(dir).getMessage());
    }

    @Test
    void noWeightsOrAmbiguousWeights() {
        assertEquals("no model.safetensors, model.safetensors.index.json or other *.safetensors file in " + dir,
                fails(dir).getMessage());
        write(dir.resolve("x.safetensors"), "a");
        write(dir.resolve("y.safetensors"), "b");
        assertEquals("directory " + dir + " holds several .safetensors files (x.safetensors, y.safetensors) but no"
                + " model.safetensors.index.json saying which tensor is in which", fails(dir).getMessage());
        Path absent = dir.resolve("nope");
        assertEquals("checkpoint " + absent + " does not exist; expected a directory with model.safetensors or"
                + " model.safetensors.index.json", fails(absent).getMessage());
    }
}

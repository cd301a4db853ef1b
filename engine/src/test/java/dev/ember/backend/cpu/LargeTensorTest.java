package dev.ember.backend.cpu;

import dev.ember.weights.SafetensorsFile;
import dev.ember.weights.TensorPoke;
import dev.ember.weights.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tensor over 2 GiB (an fp32 embedding of 600,000 x 1,000 = 2.4 GB) in a sparse safetensors file, so the test
 * writes a few pages: it maps, and every element reads back, including rows that straddle the 1 GiB chunks.
 */
class LargeTensorTest {
    private static final long ROWS = 600_000;
    private static final int HIDDEN = 1000;

    @Test
    void aTensorOverTwoGibibytesLoadsAndReadsAcrossItsChunks(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        long bytes = ROWS * HIDDEN * 4;
        String header = "{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[" + ROWS + "," + HIDDEN
                + "],\"data_offsets\":[0," + bytes + "]}}";
        byte[] json = (header + " ".repeat((8 - header.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] len = new byte[8];
            for (int i = 0; i < 8; i++) {
                len[i] = (byte) ((long) json.length >>> (8 * i));
            }
            raf.write(len);
            raf.write(json);
            raf.setLength(8 + json.length + bytes); // sparse: the rest reads as zeros
        }
        long elementsPerChunk = TensorView.CHUNK_BYTES / 4;
        long straddlingRow = elementsPerChunk / HIDDEN; // starts in chunk 0, ends in chunk 1
        long[] probes = {0, elementsPerChunk - 1, elementsPerChunk, 2 * elementsPerChunk + 3, ROWS * HIDDEN - 1};
        for (long p : probes) {
            TensorPoke.set(file, "model.embed_tokens.weight", p, p % 1000 + 0.5f);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorView t = f.tensor("model.embed_tokens.weight");
            assertEquals(3, t.numChunks());
            assertEquals(bytes, t.sizeBytes());
            for (long p : probes) {
                assertEquals(p % 1000 + 0.5f, t.get(p), "element " + p);
            }
            assertEquals(0f, t.get(elementsPerChunk + 1));
            // the CPU backend's embedding gather reads whole rows, one of them across the first chunk boundary
            float[] out = new float[3 * HIDDEN];
            CpuOps.embedding(out, new int[] {(int) straddlingRow, 0, (int) (ROWS - 1)}, t);
            long first = straddlingRow * HIDDEN;
            for (int i = 0; i < HIDDEN; i++) {
                assertEquals(t.get(first + i), out[i], "row " + straddlingRow + " element " + i);
            }
            assertEquals(elementsPerChunk % 1000 + 0.5f, out[(int) (elementsPerChunk - first)]);
            assertEquals(0.5f, out[HIDDEN]);
            assertEquals((ROWS * HIDDEN - 1) % 1000 + 0.5f, out[3 * HIDDEN - 1]);
            assertTrue(f.tensor("model.embed_tokens.weight").chunk(0).isDirect());
        }
    }
}

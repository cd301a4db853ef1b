package dev.ember.weights;

import dev.ember.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private static final float[] VALUES = {0f, 1f, -2.5f, 3.14159265f, 1e-3f, -65504f, 1.00390625f, 7e-8f, 0.1f,
            -0.333333f, 100.125f, 42f};

    /** A file with a raw header and {@code dataBytes} zero bytes of data. */
    static Path rawFile(Path file, String header, int dataBytes) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Files.write(file, b.array());
        return file;
    }

    private ModelFormatException fails(Path file) {
        return assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file).close());
    }

    @Test
    void valuesRoundTripInEveryDtype() {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .add("f32", DType.F32, new long[] {3, 4}, VALUES)
                .add("bf16", DType.BF16, new long[] {12}, VALUES)
                .add("f16", DType.F16, new long[] {2, 2, 3}, VALUES)
                .add("empty", DType.F32, new long[] {0, 5}, new float[0])
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("bf16", "empty", "f16", "f32"), List.copyOf(f.names()));
            TensorView f32 = f.tensor("f32");
            assertEquals(DType.F32, f32.dtype());
            assertArrayEquals(new long[] {3, 4}, f32.shape());
            assertArrayEquals(VALUES, f32.toFloats());
            TensorView bf16 = f.tensor("bf16");
            TensorView f16 = f.tensor("f16");
            assertArrayEquals(new long[] {2, 2, 3}, f16.shape());
            for (int i = 0; i < VALUES.length; i++) {
                assertEquals(DType.bf16ToFloat(DType.floatToBf16(VALUES[i])), bf16.get(i), "bf16 " + i);
                assertEquals(DType.f16ToFloat(DType.floatToF16(VALUES[i])), f16.get(i), "f16 " + i);
                // and the stored values are close to the originals (8 and 11 significant bits)
                assertEquals(VALUES[i], bf16.get(i), Math.abs(VALUES[i]) / 128 + 1e-30);
                assertEquals(VALUES[i], f16.get(i), Math.abs(VALUES[i]) / 1024 + 6e-8);
            }
            assertEquals(1.0f, bf16.get(6)); // 1 + 2^-8 is a tie: round to even
            assertEquals(0, f.tensor("empty").numElements());
            assertTrue(f.tensor("f32").bytes().isReadOnly());
        }
    }

    @Test
    void headerIsSortedAlignedAndCarriesMetadata() throws Exception {
        Path file = dir.resolve("t.safetensors");
        long size = new SafetensorsWriter()
                .add("b", DType.BF16, new long[] {3}, new float[] {1, 2, 3})
                .add("a", DType.F32, new long[] {1}, new float[] {5})
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(bytes.length, size);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8);
        assertEquals(8 + headerLength + 4 + 6, bytes.length);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[4,10]}}", header.strip());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertFalse(f.contains("__metadata__"));
            assertEquals(5f, f.tensor("a").get(0));
        }
    }

    @Test
    void tensorsAreMappedNotCopied() throws Exception {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("x", DType.F32, new long[] {4}, new float[] {1, 2, 3, 4}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertTrue(f.tensor("x").bytes().isDirect(), "a mapped buffer is direct; a heap copy is not");
            assertTrue(f.tensor("x") == f.tensor("x"), "one mapping per tensor");
        }
    }

    @Test
    void missingTensorNamesTheFile() throws Exception {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("x", DType.F32, new long[] {1}, new float[] {1}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> f.tensor("y"));
            assertEquals("tensor 'y' is not in " + file + " (it holds 1 tensors)", e.getMessage());
        }
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("absent.safetensors");
        assertEquals("safetensors file " + file + " does not exist", fails(file).getMessage());
    }

    @Test
    void fileShorterThanTheLengthField() throws Exception {
        Path file = Files.write(dir.resolve("t.safetensors"), new byte[5]);
        assertEquals("safetensors file " + file + " is 5 bytes; too short for the 8-byte header length (truncated?)",
                fails(file).getMessage());
    }

    @Test
    void headerLengthBeyondTheFile() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Path file = Files.write(dir.resolve("t.safetensors"), b.array());
        assertEquals("safetensors file " + file + " declares a header of 1000 bytes but only 12 bytes follow the"
                + " length field (truncated or not a safetensors file?)", fails(file).getMessage());
        // a negative (huge unsigned) length must not be taken for a small one
        ByteBuffer neg = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(-8);
        Files.write(file, neg.array());
        assertTrue(fails(file).getMessage().contains("declares a header of 18446744073709551608 bytes"));
    }

    @Test
    void badJson() throws Exception {
        Path file = rawFile(dir.resolve("t.safetensors"), "{\"x\": {\"dtype\": \"F32\",", 0);
        ModelFormatException e = fails(file);
        assertTrue(e.getMessage().startsWith("safetensors header of " + file + " is not valid JSON: "), e.getMessage());
        assertEquals("safetensors header of " + file + " is not a JSON object",
                fails(rawFile(file, "[1, 2]", 0)).getMessage());
        ModelFormatException dup = fails(rawFile(file,
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
        assertTrue(dup.getMessage().contains("Duplicate field 'x'"), dup.getMessage());
    }

    /**
     * The reference reader parses the header with serde_json::from_str, which refuses anything but whitespace after
     * the object ("trailing characters"); a second object after the first is a corrupt header, not tensors to drop.
     * The space padding writers add stays accepted.
     */
    @Test
    void textAfterTheHeaderObjectIsRefused() throws Exception {
        String w = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path file = rawFile(dir.resolve("t.safetensors"), w + " {\"v\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[4,8]}}", 8);
        ModelFormatException e = fails(file);
        assertTrue(e.getMessage().startsWith("safetensors header of " + file + " is not valid JSON: Trailing token"),
                e.getMessage());
        try (SafetensorsFile f = SafetensorsFile.open(rawFile(dir.resolve("padded.safetensors"), w + "     ", 4))) {
            assertEquals(List.of("w"), List.copyOf(f.names()));
        }
    }

    @Test
    void unknownDtype() throws Exception {
        Path file = rawFile(dir.resolve("t.safetensors"),
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        assertEquals("tensor 'w' in " + file + " has dtype F64; supported: F32, F16, BF16", fails(file).getMessage());
    }

    @Test
    void malformedEntries() throws Exception {
        Path file = dir.resolve("t.safetensors");
        assertEquals("tensor 'w' in " + file + ": 'shape' is [2,-1]; expected an array of non-negative integers",
                fails(rawFile(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", 8))
                        .getMessage());
        assertEquals("tensor 'w' in " + file + ": 'data_offsets' is [0]; expected an array of 2 non-negative integers",
                fails(rawFile(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8)).getMessage());
        assertEquals("tensor 'w' in " + file + ": 'dtype' is null; expected a string such as \"BF16\"",
                fails(rawFile(file, "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8)).getMessage());
    }

    @Test
    void dataOffsetsOutsideTheFile() throws Exception {
        Path file = rawFile(dir.resolve("t.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 12);
        assertEquals("tensor 'w' in " + file + ": data_offsets [0, 16] are outside the 12-byte data section"
                + " (truncated file?)", fails(file).getMessage());
        Path reversed = rawFile(dir.resolve("r.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 12);
        assertTrue(fails(reversed).getMessage().contains("data_offsets [8, 4] are outside"));
    }

    @Test
    void sizeDisagreesWithShape() throws Exception {
        Path file = rawFile(dir.resolve("t.safetensors"),
                "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16);
        assertEquals("tensor 'w' in " + file + ": data_offsets [0, 16] span 16 bytes but shape [2, 3] of BF16"
                + " needs 12", fails(file).getMessage());
    }

    @Test
    void overlappingTensors() throws Exception {
        Path file = rawFile(dir.resolve("t.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16);
        assertEquals("tensors 'a' [0, 16] and 'b' [8, 16] in " + file + " overlap", fails(file).getMessage());
    }

    /**
     * The reference reader (safetensors' Metadata::validate) requires the tensors to tile the data section from byte
     * 0 to the end of the file, in offset order: a gap (InvalidOffset) or bytes after the last tensor
     * (MetadataIncompleteBuffer) mean the header does not describe the file, and torch/transformers refuse it.
     */
    @Test
    void bytesNoTensorCoversAreRefused() throws Exception {
        Path gap = rawFile(dir.resolve("gap.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12);
        assertEquals("bytes [4, 8) of the data section of " + gap + " belong to no tensor (before 'b'); the"
                + " safetensors format packs tensors without gaps (corrupt header?)", fails(gap).getMessage());
        Path start = rawFile(dir.resolve("start.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        assertEquals("bytes [0, 4) of the data section of " + start + " belong to no tensor (before 'a'); the"
                + " safetensors format packs tensors without gaps (corrupt header?)", fails(start).getMessage());
        Path tail = rawFile(dir.resolve("tail.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12);
        assertEquals("bytes [4, 12) of the data section of " + tail + " belong to no tensor (after the last one); the"
                + " safetensors format packs tensors without gaps (corrupt header?)", fails(tail).getMessage());
        Path empty = rawFile(dir.resolve("empty.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[0,4]},\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 4);
        try (SafetensorsFile f = SafetensorsFile.open(empty)) {
            assertEquals(List.of("a", "z"), List.copyOf(f.names()));
        }
    }

    @Test
    void truncatedRealFileFailsAtOpenNotAtRead() throws Exception {
        Path file = dir.resolve("t.safetensors");
        float[] big = new float[1000];
        Arrays.fill(big, 1.5f);
        new SafetensorsWriter().add("a", DType.F32, new long[] {10}, new float[10])
                .add("z", DType.F32, new long[] {1000}, big).write(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 100));
        ModelFormatException e = fails(file);
        assertEquals("tensor 'z' in " + file + ": data_offsets [40, 4040] are outside the 3940-byte data section"
                + " (truncated file?)", e.getMessage());
    }

    @Test
    void closedFileRefusesNewViewsButKeepsOldOnesReadable() throws Exception {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("x", DType.F32, new long[] {2}, new float[] {3, 4})
                .add("y", DType.F32, new long[] {1}, new float[] {5}).write(file);
        SafetensorsFile f = SafetensorsFile.open(file);
        TensorView x = f.tensor("x");
        f.close();
        f.close(); // idempotent
        assertEquals(4f, x.get(1));
        assertThrows(dev.ember.LlmException.class, () -> f.tensor("y"));
    }
}

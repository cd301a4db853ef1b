package dev.ember.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ember.LlmException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Writes named float tensors, converted to F32, BF16 (round to nearest even) or F16, into one
 * {@code .safetensors} file laid out as the reference writer does: header keys sorted, {@code __metadata__}
 * {@code {"format": "pt"}} first, the JSON padded with spaces to a multiple of 8 bytes, tensor data in key order.
 *
 * <p>Values may be given as an array or as a supplier that is called once, while writing, so a large
 * generated checkpoint needs only one tensor on the heap at a time. Not thread-safe; reusable after write.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_ELEMENTS = 1 << 16;

    private record Pending(DType dtype, long[] shape, long numElements, Supplier<float[]> values) {
    }

    private final Map<String, Pending> tensors = new TreeMap<>();

    /** Adds a tensor whose {@code values} (row-major, length = product of {@code shape}) are copied now. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        float[] copy = values.clone();
        return add(name, dtype, shape, () -> copy);
    }

    /** Adds a tensor whose values are produced by {@code values} when {@link #write} runs. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, Supplier<float[]> values) {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("tensor name '" + name + "' is not allowed");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in "
                        + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        tensors.put(name, new Pending(dtype, shape.clone(), n, values));
        return this;
    }

    /** Writes every added tensor to {@code file} (replacing it); returns the number of bytes written. */
    public long write(Path file) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] header = header();
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            writeFully(out, prefix);
            for (Map.Entry<String, Pending> e : tensors.entrySet()) {
                writeTensor(out, e.getKey(), e.getValue());
            }
            return out.size();
        } catch (IOException e) {
            throw new LlmException("cannot write safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    private byte[] header() throws JsonProcessingException {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Map.Entry<String, Pending> e : tensors.entrySet()) {
            Pending t = e.getValue();
            long size = t.numElements * t.dtype.sizeBytes();
            ObjectNode node = root.putObject(e.getKey());
            node.put("dtype", t.dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeTensor(FileChannel out, String name, Pending t) throws IOException {
        float[] values = t.values.get();
        if (values == null || values.length != t.numElements) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(t.shape) + " ("
                    + t.numElements + " elements) but " + (values == null ? "no" : values.length) + " values");
        }
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_ELEMENTS * t.dtype.sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int start = 0; start < values.length; start += CHUNK_ELEMENTS) {
            int end = Math.min(values.length, start + CHUNK_ELEMENTS);
            chunk.clear();
            for (int i = start; i < end; i++) {
                switch (t.dtype) {
                    case F32 -> chunk.putFloat(values[i]);
                    case BF16 -> chunk.putShort(DType.floatToBf16(values[i]));
                    case F16 -> chunk.putShort(DType.floatToF16(values[i]));
                }
            }
            chunk.flip();
            writeFully(out, chunk);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}

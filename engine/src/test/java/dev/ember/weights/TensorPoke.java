package dev.ember.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Test helper: overwrites one element of one tensor in a safetensors file in place (to plant NaN or Inf). */
public final class TensorPoke {
    private TensorPoke() {
    }

    /** Sets element {@code index} (row-major) of {@code tensor} in {@code file} to {@code value}, in the tensor's dtype. */
    public static void set(Path file, String tensor, long index, float value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long headerLength = len.getLong(0);
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            ch.read(header, 8);
            JsonNode entry = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8)).get(tensor);
            if (entry == null) {
                throw new IllegalArgumentException("no tensor '" + tensor + "' in " + file);
            }
            DType dtype = DType.fromSafetensors(entry.get("dtype").asText(), tensor, file.toString());
            long at = 8 + headerLength + entry.get("data_offsets").get(0).asLong() + index * dtype.sizeBytes();
            ByteBuffer b = ByteBuffer.allocate(dtype.sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case F32 -> b.putFloat(value);
                case BF16 -> b.putShort(DType.floatToBf16(value));
                case F16 -> b.putShort(DType.floatToF16(value));
            }
            b.flip();
            ch.write(b, at);
        }
    }
}

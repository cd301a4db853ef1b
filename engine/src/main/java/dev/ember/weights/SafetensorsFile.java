package dev.ember.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.LlmException;
import dev.ember.ModelFormatException;
import dev.ember.StrictJson;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}}, plus an ignored {@code __metadata__}), then the tensor bytes.
 *
 * <p>Opening reads and validates only the header: every dtype, shape and offset range is checked against the
 * file's size (the tensors must tile the data section without gaps or overlaps, as the reference reader demands), so a truncated or corrupt file fails here with a {@link ModelFormatException} naming the file and
 * tensor, never later with a fault inside a mapping. Tensor data is never copied onto the heap: {@link #tensor}
 * maps the tensor's byte range read-only ({@link FileChannel#map}) on first use and caches the view.
 *
 * <p>Owns the open file channel; {@link #close()} is idempotent. Views handed out stay readable after close
 * (Java 17 has no public unmap; the mapping is released when the last view is collected), but no new view can
 * be taken. Thread-safe.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap; a larger header is corrupt rather than real. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, TensorView> mapped = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Where one tensor lives: {@code [begin, end)} relative to the data section. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    /** Opens and validates {@code file}; throws {@link ModelFormatException} if it is missing or malformed. */
    public static SafetensorsFile open(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("safetensors file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot open safetensors file " + file + ": " + e.getMessage(), e);
        }
        try {
            long fileSize = channel.size();
            long headerLength = readHeaderLength(channel, file, fileSize);
            JsonNode header = readHeader(channel, file, headerLength);
            long dataStart = 8 + headerLength;
            Map<String, Entry> entries = parseEntries(header, file, fileSize - dataStart);
            return new SafetensorsFile(file, channel, dataStart, entries);
        } catch (IOException e) {
            closeQuietly(channel, e);
            throw new ModelFormatException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor names in sorted order ({@code __metadata__} excluded). */
    public Set<String> names() {
        return entries.keySet();
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * The tensor's bytes, memory-mapped read-only (a mapping is made once per tensor and shared).
     *
     * @throws ModelFormatException naming this file if it holds no such tensor
     */
    public TensorView tensor(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new ModelFormatException("tensor '" + name + "' is not in " + path + " (it holds " + entries.size()
                    + " tensors)");
        }
        if (closed) {
            throw new LlmException("safetensors file " + path + " is closed; cannot map tensor '" + name + "'");
        }
        return mapped.computeIfAbsent(name, n -> map(entry));
    }

    private TensorView map(Entry entry) {
        long length = entry.end - entry.begin;
        try {
            // one mapping holds at most 2 GiB: a larger tensor is mapped as consecutive 1 GiB chunks
            List<ByteBuffer> chunks = new ArrayList<>();
            for (long at = 0; at < length || chunks.isEmpty(); at += TensorView.CHUNK_BYTES) {
                long size = Math.min(TensorView.CHUNK_BYTES, length - at);
                MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + entry.begin + at, size);
                chunks.add(buffer.order(ByteOrder.LITTLE_ENDIAN));
            }
            return new TensorView(entry.name, entry.dtype, entry.shape, chunks);
        } catch (IOException e) {
            throw new ModelFormatException("cannot map tensor '" + entry.name + "' of " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new LlmException("cannot close " + path + ": " + e.getMessage(), e);
        }
    }

    private static long readHeaderLength(FileChannel channel, Path file, long fileSize) throws IOException {
        if (fileSize < 8) {
            throw new ModelFormatException("safetensors file " + file + " is " + fileSize
                    + " bytes; too short for the 8-byte header length (truncated?)");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 0 || headerLength > fileSize - 8) {
            throw new ModelFormatException("safetensors file " + file + " declares a header of "
                    + Long.toUnsignedString(headerLength) + " bytes but only " + (fileSize - 8)
                    + " bytes follow the length field (truncated or not a safetensors file?)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException("safetensors file " + file + " declares a header of " + headerLength
                    + " bytes; at most " + MAX_HEADER_BYTES + " are allowed");
        }
        return headerLength;
    }

    private static JsonNode readHeader(FileChannel channel, Path file, long headerLength) throws IOException {
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        JsonNode header;
        try {
            // as the reference reader (serde_json): a name given twice or text after the object is a corrupt header
            header = StrictJson.readUniqueKeys(headerBytes.array());
        } catch (JsonProcessingException e) {
            throw new ModelFormatException("safetensors header of " + file + " is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException("safetensors header of " + file + " is not a JSON object");
        }
        return header;
    }

    private static Map<String, Entry> parseEntries(JsonNode header, Path file, long dataSize) {
        Map<String, Entry> entries = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            Entry entry = parseEntry(field.getKey(), field.getValue(), file, dataSize);
            entries.put(entry.name, entry);
        }
        rejectOverlapsAndGaps(entries, file, dataSize);
        return Collections.unmodifiableMap(entries);
    }

    private static Entry parseEntry(String name, JsonNode node, Path file, long dataSize) {
        String where = "tensor '" + name + "' in " + file;
        if (!node.isObject()) {
            throw new ModelFormatException(where + ": header entry is " + node + "; expected {dtype, shape, data_offsets}");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new ModelFormatException(where + ": 'dtype' is " + dtypeNode + "; expected a string such as \"BF16\"");
        }
        DType dtype = DType.fromSafetensors(dtypeNode.asText(), name, file.toString());
        long[] shape = longArray(node.get("shape"), "shape", -1, where);
        long[] offsets = longArray(node.get("data_offsets"), "data_offsets", 2, where);
        long numElements = 1;
        try {
            for (long d : shape) {
                numElements = Math.multiplyExact(numElements, d);
            }
            Math.multiplyExact(numElements, (long) dtype.sizeBytes());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(where + ": shape " + Arrays.toString(shape) + " overflows a 64-bit size");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new ModelFormatException(where + ": data_offsets [" + begin + ", " + end + "] are outside the "
                    + dataSize + "-byte data section (truncated file?)");
        }
        long expectedBytes = numElements * dtype.sizeBytes();
        if (end - begin != expectedBytes) {
            throw new ModelFormatException(where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longArray(JsonNode node, String key, int requiredLength, String where) {
        String expected = requiredLength < 0 ? "an array of non-negative integers" : "an array of " + requiredLength
                + " non-negative integers";
        if (node == null || !node.isArray() || (requiredLength >= 0 && node.size() != requiredLength)) {
            throw new ModelFormatException(where + ": '" + key + "' is " + node + "; expected " + expected);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new ModelFormatException(where + ": '" + key + "' is " + node + "; expected " + expected);
            }
            values[i] = v.asLong();
        }
        return values;
    }

    /**
     * As the reference reader (Metadata::validate): the tensors tile the data section from byte 0 to the end of the
     * file; a gap or trailing bytes mean the header does not describe the file.
     */
    private static void rejectOverlapsAndGaps(Map<String, Entry> entries, Path file, long dataSize) {
        List<Entry> byOffset = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.end > e.begin) { // zero-size tensors occupy no bytes, so they cannot collide with anything
                byOffset.add(e);
            }
        }
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        long covered = 0;
        for (int i = 0; i < byOffset.size(); i++) {
            Entry current = byOffset.get(i);
            if (current.begin < covered) {
                Entry previous = byOffset.get(i - 1);
                throw new ModelFormatException("tensors '" + previous.name + "' [" + previous.begin + ", " + previous.end
                        + "] and '" + current.name + "' [" + current.begin + ", " + current.end + "] in " + file
                        + " overlap");
            }
            if (current.begin > covered) {
                throw gap(file, covered, current.begin, "before '" + current.name + "'");
            }
            covered = current.end;
        }
        if (covered < dataSize) {
            throw gap(file, covered, dataSize, "after the last one");
        }
    }

    private static ModelFormatException gap(Path file, long from, long to, String where) {
        return new ModelFormatException("bytes [" + from + ", " + to + ") of the data section of " + file + " belong to"
                + " no tensor (" + where + "); the safetensors format packs tensors without gaps (corrupt header?)");
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += n;
        }
    }

    private static void closeQuietly(FileChannel channel, Exception primary) {
        try {
            channel.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }
}

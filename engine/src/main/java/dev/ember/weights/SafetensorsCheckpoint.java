package dev.ember.weights;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ember.LlmException;
import dev.ember.ModelFormatException;
import dev.ember.StrictJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Hugging Face safetensors checkpoint: {@code model.safetensors}, else shards listed by
 * {@code model.safetensors.index.json}'s {@code weight_map} (transformers' order), else the one other
 * {@code *.safetensors} file of a directory (a path to a single file is accepted too).
 *
 * <p>Opening validates every file's header and, for a sharded checkpoint, that each listed tensor is in the
 * shard the index names. Owns the open files (closed by {@link #close()}, idempotent); thread-safe for reads.
 */
public final class SafetensorsCheckpoint implements Checkpoint {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final String source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;
    private boolean closed;

    private SafetensorsCheckpoint(String source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.source = source;
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** Opens the checkpoint in {@code path} (a directory, or one {@code .safetensors} file). */
    public static SafetensorsCheckpoint open(Path path) {
        if (Files.isRegularFile(path)) {
            return single(path);
        }
        if (!Files.isDirectory(path)) {
            throw new ModelFormatException("checkpoint " + path + " does not exist; expected a directory with "
                    + SINGLE_FILE + " or " + INDEX_FILE);
        }
        // transformers' from_pretrained looks for model.safetensors before the index; with both present, the same
        // weights must be read here
        Path single = path.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return single(single);
        }
        Path index = path.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return sharded(path, index);
        }
        List<Path> candidates = listSafetensors(path);
        if (candidates.size() == 1) {
            return single(candidates.get(0));
        }
        if (candidates.isEmpty()) {
            throw new ModelFormatException("no " + SINGLE_FILE + ", " + INDEX_FILE + " or other *.safetensors file in "
                    + path);
        }
        throw new ModelFormatException("directory " + path + " holds several .safetensors files ("
                + candidates.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", "))
                + ") but no " + INDEX_FILE + " saying which tensor is in which");
    }

    private static SafetensorsCheckpoint single(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byName = new TreeMap<>();
        for (String name : f.names()) {
            byName.put(name, f);
        }
        return new SafetensorsCheckpoint(file.toString(), List.of(f), byName);
    }

    private static SafetensorsCheckpoint sharded(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> byName = new TreeMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                String shardName = e.getValue();
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(resolveShard(dir, index, tensor, shardName));
                    shards.put(shardName, shard);
                    requireOnlyItsOwnListedTensors(dir, shard, weightMap, index);
                }
                if (!shard.contains(tensor)) {
                    throw new ModelFormatException("tensor '" + tensor + "' is listed in " + index + " as being in "
                            + shardName + ", but " + shard.path() + " does not contain it");
                }
                byName.put(tensor, shard);
            }
            return new SafetensorsCheckpoint(index.toString(), new ArrayList<>(shards.values()), byName);
        } catch (RuntimeException e) {
            for (SafetensorsFile shard : shards.values()) {
                try {
                    shard.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * transformers loads every tensor of each listed shard, so a name held by two shards ends as the later shard's
     * copy whatever weight_map says; which copy is meant is unknowable.
     */
    private static void requireOnlyItsOwnListedTensors(Path dir, SafetensorsFile shard, Map<String, String> weightMap,
                                                       Path index) {
        for (String name : shard.names()) {
            String listed = weightMap.get(name);
            if (listed != null && !dir.resolve(listed).normalize().equals(shard.path())) {
                throw new ModelFormatException("tensor '" + name + "' is in " + shard.path() + " as well as in "
                        + listed + ", where " + index + " places it; transformers would load both copies (the later"
                        + " shard wins)");
            }
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = StrictJson.read(index); // as json.load, which transformers uses: "Extra data" fails
        } catch (IOException e) {
            throw new ModelFormatException(index + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelFormatException(index + " has no 'weight_map' object mapping tensor names to shard files");
        }
        Map<String, String> result = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = weightMap.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (!f.getValue().isTextual()) {
                throw new ModelFormatException("tensor '" + f.getKey() + "' in " + index + " maps to " + f.getValue()
                        + "; expected a shard file name");
            }
            result.put(f.getKey(), f.getValue().asText());
        }
        if (result.isEmpty()) {
            throw new ModelFormatException(index + " has an empty 'weight_map'");
        }
        return result;
    }

    private static Path resolveShard(Path dir, Path index, String tensor, String shardName) {
        Path shard = dir.resolve(shardName).normalize();
        if (!shard.startsWith(dir.normalize())) {
            throw new ModelFormatException("shard '" + shardName + "' for tensor '" + tensor + "' in " + index
                    + " points outside the checkpoint directory");
        }
        if (!Files.isRegularFile(shard)) {
            throw new ModelFormatException("shard file " + shard + " (for tensor '" + tensor + "', listed in " + index
                    + ") does not exist");
        }
        return shard;
    }

    private static List<Path> listSafetensors(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))
                    .sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new ModelFormatException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public TensorView tensor(String name) {
        SafetensorsFile file = byName.get(name);
        if (file == null) {
            throw new ModelFormatException("tensor '" + name + "' is missing from " + source);
        }
        return file.tensor(name);
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Tensor names in sorted order. */
    @Override
    public Set<String> names() {
        return byName.keySet();
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LlmException failure = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (LlmException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}

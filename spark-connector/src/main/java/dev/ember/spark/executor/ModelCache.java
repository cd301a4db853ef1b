package dev.ember.spark.executor;

import dev.ember.ConfigException;
import dev.ember.ModelFormatException;
import dev.ember.engine.Engine;
import dev.ember.demo.DemoModel;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Turns a {@code model} option into a local checkpoint directory. A local path is used in place; a Hadoop
 * FileSystem URI (hdfs://, s3a://, file://, ...) is copied once into the cache directory; {@code demo} writes
 * the built-in demo model there. Copies are guarded by an OS file lock, so concurrent tasks and executors on
 * one host wait for the first copy instead of racing. A copy is written into {@code <key>.partial} and renamed to
 * {@code <key>} with its {@code .complete} marker, so a copy that was interrupted is never used and is redone.
 * Stateless; thread-safe.
 */
public final class ModelCache {
    private static final String COMPLETE = ".complete";
    private static final String STAGING = ".partial";
    // RFC 3986's scheme of two or more characters (one letter is a Windows drive), then ':'
    private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:");

    private ModelCache() {
    }

    /** The local directory of {@code model}, copying or writing it into {@code cacheDir} first when needed. */
    public static java.nio.file.Path localize(String model, java.nio.file.Path cacheDir, Configuration hadoopConf) {
        if (EmberSettings.DEMO_MODEL.equals(model)) {
            return cached(cacheDir, "demo-" + DemoModel.SEED, DemoModel::write);
        }
        if (isLocalPath(model)) {
            java.nio.file.Path local = java.nio.file.Path.of(model);
            if (!Files.isDirectory(local)) {
                throw new ModelFormatException("model directory '" + model + "' does not exist or is not a directory;"
                        + " give a checkpoint directory, a Hadoop URI (hdfs://, s3a://, file://) or 'demo'");
            }
            return local;
        }
        URI uri = URI.create(model.replace(" ", "%20"));
        try {
            FileSystem fs = FileSystem.get(uri, hadoopConf);
            // "hdfs://nn/models/qwen/" and ".../qwen" are one model: the cache key uses the last name
            Path src = new Path(URI.create(uri.toString().replaceAll("(?<=[^/])/+$", "")));
            if (!fs.exists(src) || !fs.getFileStatus(src).isDirectory()) {
                throw new ModelFormatException("model '" + model + "' does not exist or is not a directory");
            }
            // The key includes sizes and modification times, so a changed checkpoint is copied again.
            FileStatus[] listing = fs.listStatus(src);
            String key = src.getName() + "-" + sha256(identity(model, listing)).substring(0, 16);
            return cached(cacheDir, key, dir -> copy(fs, src, model, listing, dir));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model '" + model + "'", e);
        }
    }

    /**
     * Planning-time check of a local {@code model} directory on the driver, so a bad checkpoint fails the query
     * once instead of every task: it must exist, and its config, tensor names and shapes, and tokenizer file must
     * be what the engine loads ({@link Engine#checkModel}; no weights are read). URIs and the demo model are
     * checked where they are copied, on the executors.
     */
    public static void checkLocal(String model) {
        if (!isLocalPath(model)) {
            return;
        }
        java.nio.file.Path dir = java.nio.file.Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw ConfigException.invalid("model", model, "an existing checkpoint directory (config.json, *.safetensors,"
                    + " tokenizer.json; this local path does not exist or is not a directory on the driver), a Hadoop"
                    + " FileSystem URI (hdfs://, s3a://, file://) or '" + EmberSettings.DEMO_MODEL + "'");
        }
        Engine.checkModel(dir);
    }

    /** Whether {@code model} names a local directory (as opposed to a URI or the demo model). */
    public static boolean isLocalPath(String model) {
        if (EmberSettings.DEMO_MODEL.equals(model)) {
            return false;
        }
        // By the scheme's syntax, not by parsing a URI: a directory name may hold characters a URI may not ('[', '%')
        return !URI_SCHEME.matcher(model).lookingAt();
    }

    private interface Writer {
        void write(java.nio.file.Path dir) throws IOException;
    }

    /** One monitor per cache entry (see {@link #cached}). */
    private static final ConcurrentHashMap<java.nio.file.Path, Object> ENTRY_LOCKS = new ConcurrentHashMap<>();

    // FileChannel.lock guards against other processes only; within this JVM a second thread on the same entry
    // would get OverlappingFileLockException, so threads queue on the entry's monitor first. Copies of different
    // entries (two models in one executor) do not wait for each other.
    private static java.nio.file.Path cached(java.nio.file.Path cacheDir, String key, Writer writer) {
        java.nio.file.Path dir = cacheDir.resolve(key);
        synchronized (ENTRY_LOCKS.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> new Object())) {
            return cachedLocked(cacheDir, key, dir, writer);
        }
    }

    private static java.nio.file.Path cachedLocked(java.nio.file.Path cacheDir, String key, java.nio.file.Path dir,
                                                   Writer writer) {
        java.nio.file.Path marker = dir.resolve(COMPLETE);
        if (Files.exists(marker)) {
            return dir;
        }
        try {
            Files.createDirectories(cacheDir);
            try (FileChannel ch = FileChannel.open(cacheDir.resolve(key + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (!Files.exists(marker)) {
                    // Written aside and renamed into place, so the marker another process checks without the lock
                    // is only ever in a finished copy, even when the source itself holds a file named .complete.
                    java.nio.file.Path staging = cacheDir.resolve(key + STAGING);
                    deleteTree(staging);
                    deleteTree(dir);
                    Files.createDirectories(staging);
                    try {
                        writer.write(staging);
                        Files.writeString(staging.resolve(COMPLETE), "ok", StandardCharsets.UTF_8);
                        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                    } catch (Throwable t) {
                        // a copy that failed (often a full disk) must not keep holding that disk until a retry
                        try {
                            deleteTree(staging);
                        } catch (IOException | RuntimeException cleanup) {
                            t.addSuppressed(cleanup);
                        }
                        throw t;
                    }
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the model cache directory " + dir, e);
        }
    }

    private static String identity(String model, FileStatus[] listing) {
        StringBuilder identity = new StringBuilder(model);
        for (FileStatus st : listing) {
            identity.append('|').append(st.getPath().getName()).append(':').append(st.getLen())
                    .append(':').append(st.getModificationTime());
        }
        return identity.toString();
    }

    /**
     * Copies the files of {@code listing} (the listing of {@code src} the cache key was made from) into {@code dir},
     * then lists {@code src} again: a checkpoint replaced since that listing (an upload replaces files one by one)
     * would otherwise be cached, under the key of the version listed first, as a mix of both versions. Failing lets
     * the task's retry copy the new version under its own key.
     */
    private static void copy(FileSystem fs, Path src, String model, FileStatus[] listing, java.nio.file.Path dir)
            throws IOException {
        long neededBytes = 0;
        for (FileStatus st : listing) {
            neededBytes += st.isFile() ? st.getLen() : 0;
        }
        long usableBytes = Files.getFileStore(dir).getUsableSpace();
        if (neededBytes > usableBytes) { // fail now, not hours into a copy that fills the disk
            throw new IOException("model '" + model + "' needs " + neededBytes + " bytes in the cache directory "
                    + dir.getParent() + ", whose file system has " + usableBytes + " usable; free space there or set"
                    + " the " + EmberOptions.CACHE_DIR.name() + " option to a directory on a larger disk");
        }
        for (FileStatus st : listing) {
            if (st.isFile()) {
                fs.copyToLocalFile(false, st.getPath(), new Path(dir.resolve(st.getPath().getName()).toUri()), true);
            }
        }
        if (!identity(model, listing).equals(identity(model, fs.listStatus(src)))) {
            throw new IOException("model '" + model + "' changed at the source while it was copied into " + dir
                    + " (a file's size or modification time differs); it is not cached, and a retry copies the"
                    + " new version");
        }
    }

    private static void deleteTree(java.nio.file.Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (java.nio.file.Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

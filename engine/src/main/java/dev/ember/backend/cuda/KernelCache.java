package dev.ember.backend.cuda;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The per-host directory of kernels compiled by NVRTC, so a host compiles them once (a few seconds to a minute)
 * and every later engine, executor or JVM on it loads the file. A file's name is its key: the sources' SHA-256, the
 * compile target (which carries the compute capability) and the NVRTC version, so a new jar, GPU or toolkit never
 * reads a stale image. Writes go to a temporary file moved into place, so concurrent executors never see half a file.
 * The directory is {@code -Dember.kernels.cache}, else {@code $XDG_CACHE_HOME/ember/kernels}, else
 * {@code ~/.cache/ember/kernels}. Thread-safe (the file system arbitrates).
 */
final class KernelCache {
    private static final Logger LOG = LoggerFactory.getLogger(KernelCache.class);
    static final String DIR_PROPERTY = "ember.kernels.cache";

    private final Path dir;

    KernelCache(Path dir) {
        this.dir = dir;
    }

    /** The host's cache as configured (see the class comment). */
    static KernelCache host() {
        String configured = System.getProperty(DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return new KernelCache(Path.of(configured.trim()));
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return new KernelCache(base.resolve("ember").resolve("kernels"));
    }

    Path dir() {
        return dir;
    }

    /** The file of one compiled image. */
    Path file(String sourceSha256, String target, String nvrtcVersion) {
        return dir.resolve("ember_kernels-" + sourceSha256.substring(0, 16) + "-" + target + "-nvrtc" + nvrtcVersion
                + (target.startsWith("sm_") ? ".cubin" : ".ptx"));
    }

    /** The cached image, or null when there is none (or it cannot be read: it is then compiled again). */
    byte[] read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
        } catch (IOException e) {
            LOG.warn("Ember cannot read cached kernels {} ({}); compiling them again", file, e.toString());
            return null;
        }
    }

    /** Stores an image; a directory that cannot be written costs a compile per engine, so it only warns. */
    void write(Path file, byte[] image) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            Files.write(tmp, image);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.warn("Ember cannot cache its compiled kernels in {} ({}); set -D{} to a writable directory",
                    dir, e.toString(), DIR_PROPERTY);
        }
    }
}

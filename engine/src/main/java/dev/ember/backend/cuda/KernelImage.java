package dev.ember.backend.cuda;

import dev.ember.CudaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the kernels a GPU runs come from, decided in one place. {@code -Dember.kernels} chooses:
 * <ul>
 *   <li>{@code auto} (default): the fatbin the build compiled with nvcc ({@value #FATBIN}) when the jar has one,
 *       else the sources the jar always carries, compiled with NVRTC for this GPU into the {@link KernelCache};</li>
 *   <li>{@code fatbin}: the fatbin only (fails where the build had no nvcc);</li>
 *   <li>{@code nvrtc}: NVRTC even where a fatbin exists (to test the path, or to get a cubin for a GPU the fatbin
 *       has only PTX for).</li>
 * </ul>
 * Stateless; thread-safe.
 */
final class KernelImage {
    private static final Logger LOG = LoggerFactory.getLogger(KernelImage.class);
    static final String FATBIN = "/dev/ember/backend/cuda/ember_kernels.fatbin";
    static final String MODE_PROPERTY = "ember.kernels";

    /** The choice {@code -Dember.kernels} makes. */
    enum Source { AUTO, FATBIN, NVRTC }

    /** An image for cuModuleLoadData and where it came from, for the start log and messages. */
    record Loaded(byte[] bytes, String origin) {
    }

    private KernelImage() {
    }

    static Source mode() {
        String v = System.getProperty(MODE_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> Source.AUTO;
            case "fatbin" -> Source.FATBIN;
            case "nvrtc" -> Source.NVRTC;
            default -> throw new CudaException("-D" + MODE_PROPERTY + "=" + v + " is not a kernel source; use auto"
                    + " (the built-in fatbin, else NVRTC), fatbin or nvrtc");
        };
    }

    static boolean hasFatbin() {
        return KernelImage.class.getResource(FATBIN) != null;
    }

    /** Whether {@link #forDevice} can give an image here (without compiling anything). */
    static boolean available() {
        return switch (mode()) {
            case FATBIN -> hasFatbin();
            case NVRTC -> KernelSources.present();
            case AUTO -> hasFatbin() || KernelSources.present();
        };
    }

    /** Why {@link #available()} is false, for the refusal of device=cuda. */
    static String unavailableReason() {
        return mode() == Source.FATBIN
                ? "-D" + MODE_PROPERTY + "=fatbin but " + FATBIN + " is missing (nvcc was not found when the engine was"
                        + " built); rebuild with nvcc on the PATH or leave " + MODE_PROPERTY + " at auto to use NVRTC"
                : "this engine jar carries neither " + FATBIN + " nor the kernel sources under " + KernelSources.DIR
                        + "; the jar is incomplete (rebuild it)";
    }

    /** The image for a GPU of compute capability {@code major.minor}. */
    static Loaded forDevice(int major, int minor) {
        if (!available()) {
            throw new CudaException("device=cuda is not available: " + unavailableReason());
        }
        Source mode = mode();
        if (mode != Source.NVRTC && hasFatbin()) {
            return new Loaded(readFatbin(), "fatbin " + FATBIN);
        }
        return compiled(major * 10 + minor, KernelCache.host());
    }

    /** The NVRTC image for compute capability {@code cc} (e.g. 90) from {@code cache}, compiling it on a miss. */
    static Loaded compiled(int cc, KernelCache cache) {
        KernelSources sources = KernelSources.load();
        String version = NvrtcCompiler.version();
        String target = NvrtcCompiler.target(cc);
        Path file = cache.file(sources.sha256(), target, version);
        byte[] cached = cache.read(file);
        if (cached != null) {
            return new Loaded(cached, "NVRTC cache " + file);
        }
        long start = System.nanoTime();
        NvrtcCompiler.Image image = NvrtcCompiler.compile(sources, target);
        LOG.info("Ember compiled its CUDA kernels with NVRTC {} for {} in {} ms; cached as {}", version, target,
                (System.nanoTime() - start) / 1_000_000, file);
        cache.write(file, image.bytes());
        return new Loaded(image.bytes(), "NVRTC " + version + " " + target);
    }

    private static byte[] readFatbin() {
        try (InputStream in = KernelImage.class.getResourceAsStream(FATBIN)) {
            if (in == null) {
                throw new CudaException(FATBIN + " is missing from this build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read " + FATBIN + ": " + e.getMessage(), e);
        }
    }
}

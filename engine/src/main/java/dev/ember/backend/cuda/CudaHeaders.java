package dev.ember.backend.cuda;

import dev.ember.CudaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where NVRTC finds the CUDA headers the kernels include ({@code cuda_bf16.h}, {@code cuda_fp16.h} and what they
 * include, CCCL's {@code <nv/target>} among them): NVRTC 13.0 carries none of them built in. The first directory
 * holding {@code cuda_bf16.h} among: {@code -Dember.cuda.include}; {@code $CUDA_HOME/include}; {@code $CUDA_PATH/include};
 * the {@code include} beside the loaded libnvrtc's directory (a toolkit's lib64/../include, or pip's
 * nvidia/cu13/include where nvidia-cuda-runtime put them); {@code /usr/local/cuda/include}; {@code /usr/include}.
 * Its {@code cccl} subdirectory (CUDA 13's place for CCCL) comes along when present. Stateless.
 */
final class CudaHeaders {
    static final String DIR_PROPERTY = "ember.cuda.include";
    private static final String PROBE = "cuda_bf16.h";

    private CudaHeaders() {
    }

    /** NVRTC's {@code -I} options for the headers, or a {@link CudaException} saying where they were looked for. */
    static List<String> includeOptions() {
        Set<Path> candidates = candidates();
        for (Path dir : candidates) {
            if (Files.isRegularFile(dir.resolve(PROBE))) {
                List<String> options = new ArrayList<>();
                options.add("-I" + dir);
                if (Files.isDirectory(dir.resolve("cccl"))) {
                    options.add("-I" + dir.resolve("cccl"));
                }
                return options;
            }
        }
        throw new CudaException("compiling Ember's CUDA kernels with NVRTC needs the CUDA 13 headers (" + PROBE + ","
                + " cuda_fp16.h, CCCL), found in none of " + candidates + "; install the CUDA toolkit's headers (or pip's"
                + " nvidia-cuda-runtime and nvidia-cuda-cccl) and point -D" + DIR_PROPERTY + " at their include directory");
    }

    private static Set<Path> candidates() {
        Set<Path> dirs = new LinkedHashSet<>();
        String configured = System.getProperty(DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            dirs.add(Path.of(configured.trim()));
        }
        for (String env : new String[] {"CUDA_HOME", "CUDA_PATH"}) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                dirs.add(Path.of(v.trim(), "include"));
            }
        }
        Path nvrtcDir = loadedNvrtcDir();
        if (nvrtcDir != null && nvrtcDir.getParent() != null) {
            dirs.add(nvrtcDir.getParent().resolve("include"));
        }
        dirs.add(Path.of("/usr/local/cuda/include"));
        dirs.add(Path.of("/usr/include"));
        return dirs;
    }

    // The directory of the libnvrtc this process loaded, from the Linux loader's map (null elsewhere).
    private static Path loadedNvrtcDir() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int at = line.indexOf('/');
                if (at >= 0 && line.contains("libnvrtc.so")) {
                    return Path.of(line.substring(at).trim()).getParent();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: the other candidates remain
        }
        return null;
    }
}

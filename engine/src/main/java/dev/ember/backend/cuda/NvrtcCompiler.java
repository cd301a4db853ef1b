package dev.ember.backend.cuda;

import dev.ember.CudaException;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.bytedeco.cuda.global.nvrtc.NVRTC_SUCCESS;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcDestroyProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBIN;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBINSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetNumSupportedArchs;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTX;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTXSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetSupportedArchs;
import static org.bytedeco.cuda.global.nvrtc.nvrtcVersion;

/**
 * Compiles the kernels' CUDA C sources at run time with NVRTC (the CUDA toolkit's compiler library,
 * {@code libnvrtc.so.13}, called through org.bytedeco's cuda preset). For a GPU whose architecture this NVRTC
 * knows, the result is a cubin for exactly that architecture; for a newer GPU, PTX of the newest architecture NVRTC
 * knows, which the driver JIT-compiles. Stateless; thread-safe.
 */
final class NvrtcCompiler {
    private NvrtcCompiler() {
    }

    /** A compiled image for cuModuleLoadData: a cubin, or NUL-terminated PTX. */
    record Image(byte[] bytes, String target) {
    }

    /** NVRTC's version as "major.minor"; fails with a {@link CudaException} saying how to install it. */
    static String version() {
        int[] major = {0};
        int[] minor = {0};
        try {
            check(nvrtcVersion(major, minor), "nvrtcVersion");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new CudaException("compiling Ember's CUDA kernels at run time needs NVRTC (libnvrtc.so.13 on the"
                    + " loader path: the CUDA 13 toolkit's lib64, or pip's nvidia-cuda-nvrtc), which could not be loaded: "
                    + e.getMessage(), e);
        }
        return major[0] + "." + minor[0];
    }

    /** Whether NVRTC can be loaded on this host. */
    static boolean loadable() {
        try {
            Loader.load(org.bytedeco.cuda.global.nvrtc.class);
            version();
            return true;
        } catch (RuntimeException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            return false;
        }
    }

    /** The architectures this NVRTC compiles for, e.g. [75, 80, 86, 89, 90, 100, 120]. */
    static int[] supportedArchs() {
        int[] n = {0};
        check(nvrtcGetNumSupportedArchs(n), "nvrtcGetNumSupportedArchs");
        int[] archs = new int[n[0]];
        check(nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs");
        return archs;
    }

    /** The compile target for a GPU of compute capability {@code cc} (e.g. 90): sm_cc, else the newest compute_NN below. */
    static String target(int cc) {
        int best = -1;
        for (int a : supportedArchs()) {
            if (a == cc) {
                return "sm_" + cc;
            }
            if (a < cc && a > best) {
                best = a;
            }
        }
        if (best < 0) {
            throw new CudaException("NVRTC " + version() + " cannot compile for compute capability " + cc / 10 + "."
                    + cc % 10 + " (it knows " + java.util.Arrays.toString(supportedArchs()) + ")");
        }
        return "compute_" + best;
    }

    /** Compiles {@code sources} for {@code target} ("sm_90" gives a cubin, "compute_90" PTX). */
    static Image compile(KernelSources sources, String target) {
        List<String> headerNames = new ArrayList<>();
        List<String> headerTexts = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.files().entrySet()) {
            if (!e.getKey().equals(KernelSources.MAIN)) {
                headerNames.add(e.getKey());
                headerTexts.add(e.getValue());
            }
        }
        List<String> optionList = new ArrayList<>(List.of("--gpu-architecture=" + target, "-std=c++17")); // build.sh's
        optionList.addAll(CudaHeaders.includeOptions());
        String[] options = optionList.toArray(new String[0]);
        _nvrtcProgram program = new _nvrtcProgram();
        try (PointerPointer<BytePointer> names = strings(headerNames);
             PointerPointer<BytePointer> texts = strings(headerTexts);
             PointerPointer<BytePointer> opts = strings(List.of(options))) {
            check(nvrtcCreateProgram(program, new BytePointer(sources.main()), new BytePointer(KernelSources.MAIN),
                    headerNames.size(), texts, names), "nvrtcCreateProgram");
            try {
                int rc = nvrtcCompileProgram(program, options.length, opts);
                if (rc != NVRTC_SUCCESS) {
                    throw new CudaException("NVRTC " + version() + " could not compile Ember's CUDA kernels for " + target
                            + " (" + nvrtcGetErrorString(rc).getString() + "):\n" + log(program));
                }
                boolean cubin = target.startsWith("sm_");
                try (SizeTPointer size = new SizeTPointer(1)) {
                    check(cubin ? nvrtcGetCUBINSize(program, size) : nvrtcGetPTXSize(program, size), "nvrtcGet size");
                    byte[] out = new byte[(int) size.get()];
                    check(cubin ? nvrtcGetCUBIN(program, out) : nvrtcGetPTX(program, out), "nvrtcGet image");
                    return new Image(out, target);
                }
            } finally {
                nvrtcDestroyProgram(program);
            }
        }
    }

    private static String log(_nvrtcProgram program) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtcGetProgramLogSize(program, size) != NVRTC_SUCCESS || size.get() <= 1) {
                return "(no compiler log)";
            }
            byte[] log = new byte[(int) size.get()];
            nvrtcGetProgramLog(program, log);
            return new String(log, 0, log.length - 1, StandardCharsets.UTF_8);
        }
    }

    // NUL-terminated copies that the PointerPointer keeps reachable until it is closed
    private static PointerPointer<BytePointer> strings(List<String> values) {
        return new PointerPointer<>(values.toArray(new String[0]));
    }

    private static void check(int rc, String call) {
        if (rc != NVRTC_SUCCESS) {
            throw new CudaException(call + " failed: " + nvrtcGetErrorString(rc).getString());
        }
    }
}

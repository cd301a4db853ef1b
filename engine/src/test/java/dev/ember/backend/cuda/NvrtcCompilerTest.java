package dev.ember.backend.cuda;

import dev.ember.CudaException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernel sources the jar carries, the choice of kernel image, the per-host cache, and (where libnvrtc.so.13 can be
 * loaded; no GPU needed) an NVRTC compile of the real kernels. Not gpu-tagged: NVRTC runs on the CPU.
 */
class NvrtcCompilerTest {
    @TempDir
    Path tmp;

    @AfterEach
    void clearMode() {
        System.clearProperty(KernelImage.MODE_PROPERTY);
    }

    @Test
    void theJarCarriesEveryKernelSourceTheMainFileIncludes() throws Exception {
        assertTrue(KernelSources.present());
        KernelSources sources = KernelSources.load();
        Path dir = Path.of("src/main/cuda");
        List<String> onDisk;
        try (var files = Files.list(dir)) {
            // the sm_90a kernels are their own translation unit (build.sh), which ember_kernels.cu must not include
            onDisk = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu") || n.endsWith(".cuh"))
                    .filter(n -> !Sm90aImage.SOURCES.contains(n)).sorted().toList();
        }
        for (String name : Sm90aImage.SOURCES) {
            assertTrue(Files.exists(dir.resolve(name)), name);
        }
        assertEquals(onDisk, sources.files().keySet().stream().sorted().toList(), "every .cu/.cuh is reached by the includes");
        for (String name : onDisk) {
            assertEquals(Files.readString(dir.resolve(name)), sources.files().get(name), name);
        }
        assertEquals(64, sources.sha256().length());
        KernelSources changed = new KernelSources(java.util.Map.of(KernelSources.MAIN, sources.main() + "\n"));
        assertNotEquals(sources.sha256(), changed.sha256());
    }

    @Test
    void theModePropertyChoosesTheImageAndABadValueSaysWhatIsAllowed() {
        assertEquals(KernelImage.Source.AUTO, KernelImage.mode());
        System.setProperty(KernelImage.MODE_PROPERTY, "NVRTC");
        assertEquals(KernelImage.Source.NVRTC, KernelImage.mode());
        assertTrue(KernelImage.available(), "the sources are always in the jar");
        System.setProperty(KernelImage.MODE_PROPERTY, "fatbin");
        assertEquals(KernelImage.hasFatbin(), KernelImage.available());
        System.setProperty(KernelImage.MODE_PROPERTY, "ptx");
        CudaException e = assertThrows(CudaException.class, KernelImage::mode);
        assertTrue(e.getMessage().contains("-Dember.kernels=ptx is not a kernel source; use auto"), e.getMessage());
    }

    @Test
    void cacheFilesAreKeyedBySourcesTargetAndNvrtcVersionAndWrittenWhole() throws Exception {
        KernelCache cache = new KernelCache(tmp.resolve("cache"));
        Path f = cache.file("0123456789abcdef0123", "sm_90", "13.0");
        assertEquals("ember_kernels-0123456789abcdef-sm_90-nvrtc13.0.cubin", f.getFileName().toString());
        assertEquals("ember_kernels-0123456789abcdef-compute_90-nvrtc13.1.ptx",
                cache.file("0123456789abcdef0123", "compute_90", "13.1").getFileName().toString());
        assertEquals(null, cache.read(f));
        cache.write(f, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, cache.read(f));
        try (var files = Files.list(cache.dir())) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
        System.setProperty(KernelCache.DIR_PROPERTY, tmp.resolve("elsewhere").toString());
        try {
            assertEquals(tmp.resolve("elsewhere"), KernelCache.host().dir());
        } finally {
            System.clearProperty(KernelCache.DIR_PROPERTY);
        }
    }

    @Test
    void nvrtcCompilesTheKernelsIntoACubinOnceAndTheCacheServesTheNextEngine() {
        assumeTrue(NvrtcCompiler.loadable(), "libnvrtc.so.13 is not loadable here (CUDA 13 toolkit lib64 or pip"
                + " nvidia-cuda-nvrtc on LD_LIBRARY_PATH runs this test)");
        KernelCache cache = new KernelCache(tmp.resolve("cache"));
        KernelImage.Loaded first = KernelImage.compiled(90, cache);
        assertTrue(first.origin().startsWith("NVRTC " + NvrtcCompiler.version() + " sm_90"), first.origin());
        byte[] b = first.bytes();
        assertTrue(b.length > 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F', "a cubin is an ELF file");
        String symbols = new String(b, StandardCharsets.ISO_8859_1);
        for (String kernel : List.of("embed_bf16", "add_rmsnorm_f32", "rope_store_f16", "silu_mul_bf16",
                "attn_decode_tc_hd128_bf16", "attn_prefill_hd64_f32", "sample_rows", "apply_penalties",
                "count_nonfinite_bf16", "gather_rows_f32")) {
            assertTrue(symbols.contains(kernel), "the cubin defines " + kernel);
        }
        KernelImage.Loaded again = KernelImage.compiled(90, cache);
        assertTrue(again.origin().startsWith("NVRTC cache "), again.origin());
        assertArrayEquals(b, again.bytes());

        String newer = NvrtcCompiler.target(990);
        assertTrue(newer.startsWith("compute_"), "a GPU NVRTC does not know gets PTX the driver compiles: " + newer);
        assertFalse(NvrtcCompiler.target(80).startsWith("compute_"));
    }
}

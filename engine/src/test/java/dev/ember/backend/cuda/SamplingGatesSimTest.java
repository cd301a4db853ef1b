package dev.ember.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sampling scan's gates (sampling.cu: the bounds that skip Gumbel draws which cannot win) never skip a winner:
 * src/bench/cuda/run_sampling_sim.sh cuts the scan's pieces out of sampling.cu as host C++ (sampling_sim.py) and walks
 * 500 rows as a warp and as one lane against a brute-force Gumbel-max (sampling_sim.cpp); a broken gate fails it (the
 * group bound taken with the smallest generator word instead of the largest: 228 wrong rows). Runs where python3 and
 * g++ are on the PATH (no GPU needed); skipped elsewhere. Not gpu-tagged.
 */
class SamplingGatesSimTest {

    @Test
    void theScanFindsTheBruteForceTokenOnEveryRow() throws Exception {
        assumeTrue(runs("python3", "--version") && runs("g++", "--version"), "python3 or g++ absent");
        // the script runs from the project root, the module's parent
        Run sim = run(Path.of("..").toFile(), "bash", "engine/src/bench/cuda/run_sampling_sim.sh");
        assertEquals(0, sim.exit, sim.output);
        assertTrue(sim.output.contains("500 rows, 0 wrong"), sim.output);
    }

    private record Run(int exit, String output) {
    }

    private static boolean runs(String... command) {
        try {
            return run(null, command).exit == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Run run(File directory, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(directory).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, output + "\n(timed out)");
        }
        return new Run(p.exitValue(), output);
    }
}

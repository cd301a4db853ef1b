package dev.ember.backend.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sampling scan's gates (sampling.cu: the bounds that skip Gumbel draws which cannot win) never skip a winner:
 * src/bench/cuda/sampling_sim.py cuts the scan's pieces out of sampling.cu as host C++, and sampling_sim.cpp walks 500
 * rows as a warp and as one lane against a brute-force Gumbel-max, with EMBER_SAMPLING_GROUP_BOUND off and on. Runs
 * where python3 and g++ are on the PATH (no GPU needed); skipped elsewhere. Not gpu-tagged.
 */
class SamplingGatesSimTest {
    @TempDir
    Path tmp;

    @Test
    void theScanFindsTheBruteForceTokenOnEveryRowWithAndWithoutTheGroupBound() throws Exception {
        assumeTrue(runs("python3", "--version") && runs("g++", "--version"), "python3 or g++ absent");
        Path header = tmp.resolve("sampling_sim.h");
        Run cut = run("python3", "src/bench/cuda/sampling_sim.py", "src/main/cuda/sampling.cu", header.toString());
        assertEquals(0, cut.exit, "sampling_sim.py: " + cut.output);
        for (int groupBound = 0; groupBound <= 1; groupBound++) {
            Path binary = tmp.resolve("sim" + groupBound);
            Run build = run("g++", "-O2", "-std=c++17", "-DEMBER_SAMPLING_GROUP_BOUND=" + groupBound, "-I", tmp.toString(),
                    "src/bench/cuda/sampling_sim.cpp", "-o", binary.toString());
            assertEquals(0, build.exit, "g++: " + build.output);
            Run sim = run(binary.toString());
            assertEquals(0, sim.exit, sim.output);
            assertTrue(sim.output.contains("group bound " + groupBound + ": 500 rows, 0 wrong"), sim.output);
        }
    }

    private record Run(int exit, String output) {
    }

    private static boolean runs(String... command) {
        try {
            return run(command).exit == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Run run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, output + "\n(timed out)");
        }
        return new Run(p.exitValue(), output);
    }
}

package dev.ember.tokenizer;

import dev.ember.demo.DemoModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Loading a tokenizer opts out of DJL's telemetry call (read by ai.djl.util.Ec2Utils.callHome) unless the user set it. */
class TokenizerTelemetryTest {
    @Test
    void loadingATokenizerOptsOutOfDjlsTelemetry(@TempDir Path dir) {
        assumeTrue(System.getenv("OPT_OUT_TRACKING") == null, "the environment decided");
        String before = System.getProperty("OPT_OUT_TRACKING");
        try {
            System.clearProperty("OPT_OUT_TRACKING");
            try (Tokenizer ignored = Tokenizer.load(DemoModel.write(dir))) {
                // the property DJL's callHome reads through Utils.getEnvOrSystemProperty, in the same order
                assertEquals("true", ai.djl.util.Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING"));
            }
            System.setProperty("OPT_OUT_TRACKING", "false");
            try (Tokenizer ignored = Tokenizer.load(dir)) {
                assertEquals("false", System.getProperty("OPT_OUT_TRACKING"), "a user's choice stays");
            }
        } finally {
            if (before == null) {
                System.clearProperty("OPT_OUT_TRACKING");
            } else {
                System.setProperty("OPT_OUT_TRACKING", before);
            }
        }
    }
}

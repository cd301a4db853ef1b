package dev.ember.engine;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's start-up line: one line, each figure once, no Java record printed. */
class EngineLogTest {
    @Test
    void readyLineStatesEachFigureOnce() {
        String cpu = "cpu: float32 math, 2 threads, Qwen2ForCausalLM, KV cache 65536 blocks x 16 tokens (512 MiB float32)";
        String parts = "model files 12 ms, backend 410 ms, KV cache and warm-up 501 ms, scheduler 9 ms, tokenizer wait 0 ms, step loop 1 ms";
        String line = Engine.readyMessage(0.94, parts, Path.of("/m/demo"), cpu, 32768);
        assertEquals("engine ready in 0.94 s (" + parts + "): model /m/demo, " + cpu + ", max_model_len 32768", line);
        assertFalse(line.contains("\n"));
        assertEquals(1, line.split("65536", -1).length - 1, "the block count appears once: " + line);
        assertEquals(1, line.split("blocks", -1).length - 1, line);
        assertTrue(!line.contains("EngineConfig[") && !line.contains("="), "no record printed: " + line);
    }
}

package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.backend.Backend;
import dev.ember.backend.ForwardingBackend;
import dev.ember.backend.ForwardBatch;
import dev.ember.backend.StepOutput;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The step loop's run-ahead (async_scheduling) through the whole engine on the CPU backend, wrapped so it takes
 * placeholder token ids as the CUDA backend does (resolved here on the host from the previous launch's output): the
 * same requests give the same tokens, texts and finish reasons with run-ahead on and off, and run-ahead really ran.
 */
class RunAheadTest {
    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() throws Exception {
        DemoModel.write(modelDir);
    }

    /** The CPU backend behind the run-ahead contract of {@link Backend#launch}. */
    static final class PlaceholderBackend extends ForwardingBackend {
        private StepOutput last;
        int placeholders;
        int launches;

        PlaceholderBackend(Backend inner) {
            super(inner);
        }

        @Override
        public StepOutput step(ForwardBatch b) {
            return launch(b).collect();
        }

        @Override
        public Pending launch(ForwardBatch b) {
            int[] ids = b.tokenIds.clone();
            for (int t = 0; t < ids.length; t++) {
                if (ids[t] < 0) {
                    ids[t] = last.tokens()[-ids[t] - 1];
                    placeholders++;
                }
            }
            ForwardBatch resolved = new ForwardBatch(b.numSeqs, ids, b.positions, b.slotMapping, b.queryStart,
                    b.contextLens, b.blockTables, b.blockSize, b.sample, b.params, b.seeds, b.outputIndex,
                    b.tokenHistory, b.numPromptTokens);
            StepOutput out = delegate.step(resolved);
            last = out;
            launches++;
            return () -> out;
        }

        @Override
        public boolean runsAhead() {
            return true;
        }

        @Override
        public String description() {
            return "placeholder-resolving " + delegate.description();
        }
    }

    private static List<Request> requests() {
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            SamplingParams.Builder p = SamplingParams.builder().maxTokens(1 + (i * 7) % 37).seed((long) i);
            if (i % 4 == 0) {
                p.temperature(0); // greedy
            } else {
                p.temperature(0.9).topK(i % 3 == 0 ? 20 : 0);
            }
            if (i % 5 == 1) {
                p.ignoreEos(true);
            }
            if (i % 6 == 2) {
                p.stopTokenIds(Set.of(3, 17)); // ends some sequences on a token, mid-run
            }
            if (i == 13) {
                p.repetitionPenalty(1.2); // while it runs, steps go one at a time
            }
            out.add(Request.ofText("r" + i, "prompt number " + i + " with some words", p.build()));
        }
        return out;
    }

    private static List<Result> run(boolean async, PlaceholderBackend[] seen) {
        EngineConfig config = EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(16L << 20).maxNumSeqs(6)
                .asyncScheduling(async).build();
        try (Engine engine = Engine.create(config, b -> seen[0] = new PlaceholderBackend(b))) {
            return engine.generate(requests());
        }
    }

    @Test
    void runAheadGivesTheSameTokensAsOneStepAtATime() {
        PlaceholderBackend[] sync = new PlaceholderBackend[1];
        PlaceholderBackend[] async = new PlaceholderBackend[1];
        List<Result> want = run(false, sync);
        List<Result> got = run(true, async);
        assertEquals(0, sync[0].placeholders, "async_scheduling=false never runs ahead");
        assertTrue(async[0].placeholders > 50, "run-ahead ran (" + async[0].placeholders + " placeholder tokens)");
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            Result w = want.get(i);
            Result g = got.get(i);
            assertArrayEquals(w.tokenIds(), g.tokenIds(), "tokens of request " + i);
            assertEquals(w.text(), g.text(), "text of request " + i);
            assertEquals(w.finishReason(), g.finishReason(), "finish reason of request " + i);
            assertEquals(w.completionTokens(), g.completionTokens());
        }
    }
}

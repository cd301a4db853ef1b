package dev.ember.engine;

import dev.ember.api.EngineConfig;
import dev.ember.api.FinishReason;
import dev.ember.api.Request;
import dev.ember.api.Result;
import dev.ember.api.TokenLogprobs;
import dev.ember.guided.Constraint;
import dev.ember.guided.TokenIndex;
import dev.ember.guided.TokenVocabulary;
import dev.ember.demo.DemoModel;
import dev.ember.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guided generation through the whole engine (CPU backend, demo model). */
class GuidedGenerationTest {
    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeModel() {
        DemoModel.write(modelDir);
    }

    private static Engine engine() {
        return Engine.create(EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(16L << 20).build());
    }

    @Test
    void choiceRegexAndSchemaOutputsAreValid() {
        List<String> labels = List.of("positive", "negative", "neutral", "ça va");
        String regex = "[a-z]{2,4}-\\d{2}";
        String schema = "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                + "\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10}},\"required\":[\"label\",\"score\"]}";
        try (Engine engine = engine()) {
            List<Request> requests = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                SamplingParams.Builder p = SamplingParams.builder().maxTokens(40).temperature(i % 2 == 0 ? 0 : 1.0)
                        .seed(100L + i);
                Constraint c = switch (i % 3) {
                    case 0 -> Constraint.choice(labels);
                    case 1 -> Constraint.regex(regex);
                    default -> Constraint.json(schema);
                };
                requests.add(Request.ofText("r" + i, "review number " + i + ": ", p.guided(c).build()));
            }
            List<Result> results = engine.generate(requests);
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                assertNull(r.error(), r.requestId() + ": " + r.error());
                assertEquals(FinishReason.STOP, r.finishReason(), r.requestId());
                switch (i % 3) {
                    case 0 -> assertTrue(labels.contains(r.text()), r.text());
                    case 1 -> assertTrue(Pattern.matches(regex, r.text()), r.text());
                    default -> assertTrue(r.text().matches("\\{\"label\":\"(spam|ham)\",\"score\":([0-9]|10)}"), r.text());
                }
            }
            assertEquals(3, engine.constraints().size(), "one compiled index per distinct constraint");
        }
    }

    @Test
    void choiceProbabilitiesAreTheMaskedFirstStepMassOfEachChoice() {
        // the choices start with different bytes, so every allowed first token decides its choice: each choice's
        // probability is the mass of its first tokens, and together they are the whole distribution
        List<String> fruits = List.of("apple", "banana", "cherry");
        TokenVocabulary vocabulary = TokenVocabulary.load(modelDir);
        try (Engine engine = engine()) {
            for (int i = 0; i < 4; i++) {
                SamplingParams.Builder p = SamplingParams.builder().maxTokens(12).temperature(i == 0 ? 0 : 1.0)
                        .seed(7L + i).guided(Constraint.choice(fruits));
                String prompt = "fruit " + i + ": ";
                Result r = engine.generate(List.of(Request.ofText("c" + i, prompt, p.logprobs(1).build()))).get(0);
                Result all = engine.generate(List.of(Request.ofText("a" + i, prompt, p.logprobs(20).build()))).get(0);
                assertNull(r.error(), r.error());
                assertEquals(r.text(), all.text(), "the logprobs asked for never change the tokens");
                assertEquals(fruits, List.copyOf(r.choiceProbs().keySet()));
                assertEquals(1, r.logprobs().get(0).topTokenIds().length, "the top log-probabilities asked for, no more");

                TokenLogprobs first = all.logprobs().get(0);
                double[] expected = new double[fruits.size()];
                boolean everyAllowedTokenListed = false;
                for (int k = 0; k < first.topTokenIds().length; k++) {
                    if (!Float.isFinite(first.topLogprobs()[k])) {
                        everyAllowedTokenListed = true; // the list ran past the allowed tokens
                        continue;
                    }
                    String spelled = new String(vocabulary.bytes(first.topTokenIds()[k]), StandardCharsets.UTF_8);
                    int owners = 0;
                    for (int c = 0; c < fruits.size(); c++) {
                        if (fruits.get(c).startsWith(spelled)) {
                            expected[c] += Math.exp(first.topLogprobs()[k]);
                            owners++;
                        }
                    }
                    assertEquals(1, owners, "a first token belongs to one fruit: '" + spelled + "'");
                }
                assertTrue(everyAllowedTokenListed, "fewer than 20 allowed first tokens: " + first);
                double sum = 0;
                for (int c = 0; c < fruits.size(); c++) {
                    assertEquals(expected[c], r.choiceProbs().get(fruits.get(c)), 1e-5, fruits.get(c));
                    sum += r.choiceProbs().get(fruits.get(c));
                }
                assertEquals(1.0, sum, 1e-5, "every branch decided: the probabilities cover the distribution");
                double confidence = 0;
                for (TokenLogprobs t : r.logprobs()) {
                    confidence += t.logprob();
                }
                assertTrue(r.choiceProbs().get(r.text()) >= Math.exp(confidence) - 1e-6,
                        "the generated choice is at least as likely as the path that spelled it");
            }
            Result free = engine.generate(List.of(Request.ofText("f", "x", SamplingParams.builder().logprobs(1)
                    .guided(Constraint.regex("[a-z]{3}")).build()))).get(0);
            assertTrue(free.choiceProbs().isEmpty(), "only guided_choice requests carry choice probabilities");
        }
    }

    @Test
    void masksBuiltOffTheStepLoopGiveTheSameTokensAsMasksBuiltOnIt() {
        List<Request> requests = new ArrayList<>();
        String schema = "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                + "\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":99}},\"required\":[\"label\",\"n\"]}";
        for (int i = 0; i < 24; i++) {
            SamplingParams.Builder p = SamplingParams.builder().maxTokens(24).temperature(i % 4 == 0 ? 0 : 1.0)
                    .seed(500L + i);
            switch (i % 4) {
                case 0 -> p.guided(Constraint.choice(List.of("positive", "negative", "neutral")));
                case 1 -> p.guided(Constraint.regex("[a-z]{2,6}( [0-9]{1,3})?"));
                case 2 -> p.guided(Constraint.json(schema));
                default -> { } // unconstrained rows share the batch
            }
            requests.add(Request.ofText("m" + i, "row " + i + " says ", p.build()));
        }
        List<Result> inline;
        List<Result> background;
        try (Engine engine = Engine.create(EngineConfig.builder(modelDir).numThreads(2).cpuKvCacheBytes(16L << 20)
                .guidedMaskThreads(0).build())) {
            inline = engine.generate(requests);
            for (Request r : requests) {
                if (r.params().guided() != null) {
                    TokenIndex index = engine.constraints().get(r.params().guided());
                    assertEquals(0, index.masksBuiltInBackground(), "guided_mask_threads=0 builds on the step loop");
                    assertTrue(index.masksBuiltInline() > 0);
                }
            }
        }
        try (Engine engine = engine()) {
            assertEquals(2, engine.config().guidedMaskThreads(), "the default");
            background = engine.generate(requests);
            for (Request r : requests) {
                if (r.params().guided() != null) {
                    TokenIndex index = engine.constraints().get(r.params().guided());
                    assertEquals(0, index.masksBuiltInline(), "no mask is built on the step loop");
                    assertTrue(index.masksBuiltInBackground() > 1, r.params().guided().describe());
                }
            }
        }
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(inline.get(i).tokenIds(), background.get(i).tokenIds(), requests.get(i).requestId());
            assertEquals(inline.get(i).text(), background.get(i).text());
            assertEquals(inline.get(i).error(), background.get(i).error());
        }
    }

    @Test
    void lengthFinishBeforeTheConstraintIsCompleteCarriesAnError() {
        try (Engine engine = engine()) {
            Result r = engine.generate(List.of(Request.ofText("long", "count: ", SamplingParams.builder().maxTokens(3)
                    .temperature(0).guided(Constraint.regex("[a-z]{30}")).build()))).get(0);
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertNotNull(r.error());
            assertTrue(r.error().contains("max_tokens=3") && r.error().contains("guided_regex"), r.error());
            assertTrue(Pattern.matches("[a-z]*", r.text()), "the partial text still follows the constraint: " + r.text());
        }
    }

    /**
     * min_tokens yields to a complete guided output: once the constraint allows only EOS the sampler draws it (the
     * output is complete), so the sequence must end there with STOP, one EOS last. It used to go on drawing EOS until
     * min_tokens were out: token ids and completion_tokens padded with EOS ids.
     */
    @Test
    void aCompleteGuidedOutputEndsAtItsEosDespiteMinTokens() {
        List<Integer> eos = List.of(dev.ember.demo.DemoTokenizer.IM_END_ID, dev.ember.demo.DemoTokenizer.ENDOFTEXT_ID);
        try (Engine engine = engine()) {
            for (double temperature : new double[] {0, 1.0}) {
                Result r = engine.generate(List.of(Request.ofText("min", "answer: ", SamplingParams.builder()
                        .maxTokens(30).minTokens(20).temperature(temperature).seed(5L)
                        .guided(Constraint.choice(List.of("yes", "no"))).build()))).get(0);
                assertNull(r.error(), r.error());
                assertTrue(List.of("yes", "no").contains(r.text()), r.text());
                assertEquals(FinishReason.STOP, r.finishReason());
                int[] ids = r.tokenIds();
                for (int i = 0; i < ids.length - 1; i++) {
                    assertTrue(!eos.contains(ids[i]), "EOS inside the output: " + java.util.Arrays.toString(ids));
                }
                assertTrue(eos.contains(ids[ids.length - 1]), java.util.Arrays.toString(ids));
                assertTrue(ids.length < 20, "the output ends at its EOS, not at min_tokens: " + ids.length + " tokens");
                assertEquals(ids.length, r.completionTokens());
            }
        }
    }

    @Test
    void anInvalidConstraintIsARowError() {
        try (Engine engine = engine()) {
            Result r = engine.generate(List.of(Request.ofText("bad", "x", SamplingParams.builder()
                    .guided(Constraint.json("{\"type\":\"string\",\"format\":\"email\"}")).build()))).get(0);
            assertEquals(FinishReason.ERROR, r.finishReason());
            assertTrue(r.error().contains("'format'"), r.error());
        }
    }
}

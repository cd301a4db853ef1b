package dev.ember.guided;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What one engine pays for guided decoding on the Qwen vocabulary, printed for docs/BENCHMARKS.md: reading the
 * vocabulary and building its trie (once per engine), compiling a typical labeling schema (once per constraint),
 * and building the masks of every state a compact answer visits (lazily, once per state). Skipped without the
 * fixture. The bound asserted is loose (a loaded 2-core machine); the numbers are what matter.
 */
class CompileTimeTest {
    static final String LABELING_SCHEMA = "{\"type\":\"object\",\"properties\":{"
            + "\"label\":{\"enum\":[\"positive\",\"negative\",\"neutral\",\"mixed\"]},"
            + "\"confidence\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100},"
            + "\"topics\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":20},\"maxItems\":3},"
            + "\"summary\":{\"type\":\"string\",\"maxLength\":200}},"
            + "\"required\":[\"label\",\"confidence\",\"topics\",\"summary\"]}";

    @Test
    void labelingSchemaOnTheQwenVocabulary() {
        Path dir = Fixtures.qwenTokenizer();
        Assumptions.assumeTrue(dir != null, "Qwen tokenizer fixture absent");
        long t0 = System.nanoTime();
        TokenVocabulary vocabulary = TokenVocabulary.load(dir);
        long t1 = System.nanoTime();
        ConstraintCache cache = new ConstraintCache(vocabulary, Set.of(151645, 151643), 151936);
        cache.get(Constraint.choice(java.util.List.of("warm"))); // builds the trie
        long tTrie = System.nanoTime();
        TokenIndex index = cache.get(Constraint.json(LABELING_SCHEMA));
        long t2 = System.nanoTime();
        TokenIndex again = cache.get(Constraint.json(LABELING_SCHEMA));
        long t3 = System.nanoTime();
        String answer = "{\"label\":\"positive\",\"confidence\":87,\"topics\":[\"price\",\"delivery\"],"
                + "\"summary\":\"Fast delivery, fair price, works as described.\"}";
        int state = index.start();
        int masks = 0;
        long maskNanos = 0;
        for (byte b : answer.getBytes(StandardCharsets.UTF_8)) {
            long m0 = System.nanoTime();
            index.mask(state);
            maskNanos += System.nanoTime() - m0;
            masks++;
            state = index.dfa().step(state, b & 0xff); // every state a byte-by-byte spelling passes
        }
        assertTrue(index.accepting(state), "the answer is complete");
        System.out.printf("guided compile on Qwen (151,669 tokens): vocabulary %.0f ms;"
                        + " trie %.0f ms; schema %.0f ms; cached lookup %.3f ms; %d state masks %.1f ms each on average"
                        + " (%d DFA states)%n",
                (t1 - t0) / 1e6, (tTrie - t1) / 1e6, (t2 - tTrie) / 1e6, (t3 - t2) / 1e6, masks, maskNanos / 1e6 / masks, index.numDfaStates());
        assertTrue(again == index);
        assertTrue((t2 - t0) / 1e9 < 10, "compile took " + (t2 - t0) / 1e9 + " s");
    }
}

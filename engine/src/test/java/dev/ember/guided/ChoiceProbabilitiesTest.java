package dev.ember.guided;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Choice probabilities against distributions small enough to sum by hand. */
class ChoiceProbabilitiesTest {
    private static final int EOS = 9;
    // 0 "a", 1 "b", 2 "ab", 3 "c", 4 "n", 5 "ne", 6 "neg", 7 "neu", 8 "tral", 9 EOS, 10 "ative", 11 "u"
    private static final String[] TOKENS = {"a", "b", "ab", "c", "n", "ne", "neg", "neu", "tral", null, "ative", "u"};

    private static byte[] bytes(int id) {
        return id < 0 || id >= TOKENS.length || TOKENS[id] == null ? null : TOKENS[id].getBytes(StandardCharsets.UTF_8);
    }

    private static ChoiceProbabilities of(String... choices) {
        return new ChoiceProbabilities(List.of(choices), ChoiceProbabilitiesTest::bytes, t -> t == EOS);
    }

    private static float ln(double p) {
        return (float) Math.log(p);
    }

    @Test
    void everyBranchDecidedByItsTokenIsExact() {
        // choices ab, ac, b. Step 1 allows a (0.5, taken), b (0.2: only "b"), ab (0.3: only "ab").
        // Step 2 after "a" allows b (0.6, taken) and c (0.4: "ac"). Step 3 after "ab" allows only EOS (1.0).
        // P(ab) = 0.3 + 0.5*0.6*1.0 = 0.6, P(ac) = 0.5*0.4 = 0.2, P(b) = 0.2.
        ChoiceProbabilities cp = of("ab", "ac", "b");
        cp.step(0, ln(0.5), new int[]{0, 2, 1}, new float[]{ln(0.5), ln(0.3), ln(0.2)});
        cp.step(1, ln(0.6), new int[]{1, 3}, new float[]{ln(0.6), ln(0.4)});
        cp.step(EOS, 0f, new int[]{EOS, 0}, new float[]{0f, Float.NEGATIVE_INFINITY});
        Map<String, Double> p = cp.probabilities();
        assertEquals(List.of("ab", "ac", "b"), List.copyOf(p.keySet()), "the constraint's order");
        assertEquals(0.6, p.get("ab"), 1e-6);
        assertEquals(0.2, p.get("ac"), 1e-6);
        assertEquals(0.2, p.get("b"), 1e-6);
    }

    @Test
    void aBranchSeveralChoicesShareAndUnreportedTokensStayUnattributed() {
        // choices negative, neutral. Step 1: ne (0.5, taken), n (0.1: both choices, unattributed), neg (0.3:
        // negative), neu (0.1) not among the reported top tokens. Step 2 after "ne": u (0.8, taken), g... not
        // reported; ative is not allowed there. Step 3 after "neu": tral (1.0). Step 4: EOS (1.0).
        // negative = 0.3 (the untaken "g" branch of step 2, 0.5*0.2, is not reported); neutral = 0.5*0.8 = 0.4.
        ChoiceProbabilities cp = of("negative", "neutral");
        cp.step(5, ln(0.5), new int[]{5, 6, 4}, new float[]{ln(0.5), ln(0.3), ln(0.1)});
        cp.step(11, ln(0.8), new int[]{11}, new float[]{ln(0.8)});
        cp.step(8, 0f, new int[]{8}, new float[]{0f});
        cp.step(EOS, 0f, new int[]{EOS}, new float[]{0f});
        Map<String, Double> p = cp.probabilities();
        assertEquals(0.3, p.get("negative"), 1e-6);
        assertEquals(0.4, p.get("neutral"), 1e-6);
    }

    @Test
    void anIncompleteOutputCountsOnlyWhenItDeterminesItsChoice() {
        // cut by length after "neg": only "negative" can follow, so the path's 0.3 * 1.0 is negative's
        ChoiceProbabilities decided = of("negative", "neutral");
        decided.step(6, ln(0.3), new int[]{5, 6}, new float[]{ln(0.7), ln(0.3)});
        assertEquals(0.3, decided.probabilities().get("negative"), 1e-6);
        assertEquals(0.0, decided.probabilities().get("neutral"), 1e-12);

        // cut after "ne": either can follow, so its 0.7 stays unattributed
        ChoiceProbabilities open = of("negative", "neutral");
        open.step(5, ln(0.7), new int[]{5, 6}, new float[]{ln(0.7), ln(0.3)});
        assertEquals(0.3, open.probabilities().get("negative"), 1e-6);
        assertEquals(0.0, open.probabilities().get("neutral"), 1e-12);
    }

    @Test
    void eosAfterAChoiceThatPrefixesAnotherEndsOnlyTheShorter() {
        // choices "a", "ab": after "a", EOS (0.25) is "a" and "b" (0.75, taken) is "ab"
        ChoiceProbabilities cp = of("a", "ab");
        cp.step(0, 0f, new int[]{0}, new float[]{0f});
        cp.step(1, ln(0.75), new int[]{1, EOS}, new float[]{ln(0.75), ln(0.25)});
        cp.step(EOS, 0f, new int[]{EOS}, new float[]{0f});
        Map<String, Double> p = cp.probabilities();
        assertEquals(0.25, p.get("a"), 1e-6);
        assertEquals(0.75, p.get("ab"), 1e-6);
    }
}

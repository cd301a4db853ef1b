package dev.ember.guided;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** EOS ids are allowed exactly where the output is complete, even when the tokenizer gives them text. */
class TokenIndexEosTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anEosIdWithTextIsNotAllowedBeforeTheOutputIsComplete() {
        // 0 "x", 1 "y", 2 EOS written as text "x" (an end token not marked special in tokenizer.json)
        byte[][] bytes = {utf8("x"), utf8("y"), utf8("x")};
        TokenIndex index = new TokenIndex(Constraint.regex("x+y"), new TokenTrie(new TokenVocabulary(bytes)),
                Set.of(2), 3);
        TokenMask start = index.mask(index.start());
        assertTrue(start.allows(0));
        // sampling it would end the row at once (the guide takes any EOS id as the end) with the output incomplete
        assertFalse(start.allows(2), "EOS allowed where 'x+y' is not complete");
        int afterX = index.next(index.start(), 0);
        assertFalse(index.mask(afterX).allows(2));
        int done = index.next(afterX, 1);
        assertTrue(index.accepting(done) && index.mask(done).allows(2) && index.mask(done).endOnly());
        // a state whose only token is an EOS id with text: nothing else spells the output, so EOS ends the row
        TokenIndex onlyEos = new TokenIndex(Constraint.choice(List.of("x")),
                new TokenTrie(new TokenVocabulary(new byte[][] {utf8("y"), utf8("x")})), Set.of(1), 2);
        assertTrue(onlyEos.mask(onlyEos.start()).endOnly(), "no non-EOS token continues 'x': the mask says end only");
    }
}

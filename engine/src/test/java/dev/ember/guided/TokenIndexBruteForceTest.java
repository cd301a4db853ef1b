package dev.ember.guided;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-state token masks on the real Qwen vocabulary (151,669 ids) against a brute-force reference that does
 * not use the automaton where it can avoid it: a token is allowed after a prefix when prefix + token is still a
 * viable prefix of the language, asked of java.util.regex (a full match, or a failed match that hit the end of
 * the input). Where prefix + token ends inside a UTF-8 character (which java.util.regex cannot see), the
 * reference walks the token's bytes through the DFA one by one, without the trie. Patterns cover multi-byte
 * characters, states inside a character, tokens that span several JSON tokens ({@code ":"}, {@code "}}), and
 * leading spaces. Skipped when the fixture is absent.
 */
class TokenIndexBruteForceTest {
    private static final int IM_END = 151645;
    private static TokenVocabulary vocabulary;
    private static TokenTrie trie;

    @BeforeAll
    static void load() {
        Path dir = Fixtures.qwenTokenizer();
        Assumptions.assumeTrue(dir != null, "Qwen tokenizer fixture absent");
        vocabulary = TokenVocabulary.load(dir);
        trie = new TokenTrie(vocabulary);
    }

    private record Case(String regex, List<byte[]> prefixes) {
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] firstBytes(String s, int n) {
        return Arrays.copyOf(utf8(s), n);
    }

    @Test
    void vocabularyBytesAreTheTokensText() {
        assertEquals(151669, vocabulary.size());
        assertEquals(" the", new String(vocabulary.bytes(279), StandardCharsets.UTF_8)); // Ġthe
        assertEquals(null, vocabulary.bytes(IM_END), "special tokens have no bytes");
        assertEquals(null, vocabulary.bytes(151643));
    }

    @Test
    void masksEqualTheBruteForceReference() throws Exception {
        List<Case> cases = List.of(
                new Case("(日本|中文|한국어) ?[a-z]+", List.of(utf8(""), utf8("日"), firstBytes("日", 1),
                        firstBytes("日", 2), utf8("日本"), utf8("日本 "), utf8("한국어 abc"))),
                new Case("\\{\"name\":\"[a-z ]{1,10}\",\"age\":[0-9]{1,2}\\}", List.of(utf8(""), utf8("{"),
                        utf8("{\"name\":\""), utf8("{\"name\":\"bob"), utf8("{\"name\":\"bob\",\"age\":4"))),
                new Case("( yes| no|  maybe| não)", List.of(utf8(""), utf8(" "), utf8("  "), firstBytes(" não", 3))),
                new Case("[A-Z][a-z]*( [A-Z][a-z]*)*\\.", List.of(utf8(""), utf8("The"), utf8("The Cat "))),
                new Case("-?(0|[1-9][0-9]*)(\\.[0-9]+)?", List.of(utf8(""), utf8("-"), utf8("0"), utf8("12."))));
        int checked = 0;
        for (Case c : cases) {
            TokenIndex index = new TokenIndex(Constraint.regex(c.regex()), trie, Set.of(IM_END), 151936);
            Pattern java = Pattern.compile(c.regex());
            for (byte[] prefix : c.prefixes()) {
                ByteDfa dfa = dfaOf(index);
                int state = dfa.walk(dfa.start(), prefix);
                assertTrue(state >= 0, c.regex() + ": prefix is live");
                TokenMask mask = index.mask(state);
                int allowed = 0;
                for (int id = 0; id < 151936; id++) {
                    boolean want = reference(java, dfa, state, prefix, vocabulary.bytes(id));
                    if (id == IM_END) {
                        want = dfa.accepting(state);
                    }
                    assertEquals(want, mask.allows(id), c.regex() + " after '" + new String(prefix,
                            StandardCharsets.UTF_8) + "': token " + id + " " + describe(vocabulary.bytes(id)));
                    allowed += want ? 1 : 0;
                    checked++;
                }
                assertTrue(allowed > 0, c.regex() + ": some token is allowed");
            }
        }
        assertTrue(checked > 3_000_000);
    }

    @Test
    void choiceOfLabelsWithLeadingSpacesAllowsTheirFirstTokens() {
        TokenIndex index = new TokenIndex(Constraint.choice(List.of(" positive", " negative")), trie,
                Set.of(IM_END), 151936);
        TokenMask start = index.mask(index.start());
        int positive = 6785; // "Ġpositive"
        assertEquals(" positive", new String(vocabulary.bytes(positive), StandardCharsets.UTF_8));
        assertTrue(start.allows(positive));
        assertFalse(start.allows(IM_END));
        int done = index.next(index.start(), positive);
        assertTrue(index.accepting(done));
        TokenMask end = index.mask(done);
        assertTrue(end.endOnly() && end.allows(IM_END));
        // a token the constraint does not allow leaves only EOS, and the output is not complete
        TokenGuide guide = index.newGuide();
        guide.accept(279); // " the"
        assertFalse(guide.complete());
        TokenMask dead = guide.mask();
        assertTrue(dead.endOnly() && dead.allows(IM_END) && !dead.allows(positive));
    }

    private static ByteDfa dfaOf(TokenIndex index) {
        return index.dfa();
    }

    private static boolean reference(Pattern java, ByteDfa dfa, int state, byte[] prefix, byte[] token) {
        if (token == null || token.length == 0) {
            return false;
        }
        byte[] all = Arrays.copyOf(prefix, prefix.length + token.length);
        System.arraycopy(token, 0, all, prefix.length, token.length);
        int complete = completeUtf8Length(all);
        if (complete < 0) {
            return false; // invalid UTF-8 inside: no string of the language starts so
        }
        if (complete < all.length) {
            // ends inside a character: step the token's bytes through the DFA, byte by byte
            int s = state;
            for (byte b : token) {
                s = dfa.step(s, b & 0xff);
                if (s < 0) {
                    return false;
                }
            }
            return true;
        }
        String text = decode(all);
        Matcher m = java.matcher(text);
        return m.matches() || m.hitEnd();
    }

    /** Length of the longest prefix of whole UTF-8 characters when the rest is an incomplete one; -1 if invalid. */
    private static int completeUtf8Length(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int x = b[i] & 0xff;
            int n = x < 0x80 ? 1 : x >= 0xC2 && x < 0xE0 ? 2 : x >= 0xE0 && x < 0xF0 ? 3 : x >= 0xF0 && x < 0xF5 ? 4 : -1;
            if (n < 0) {
                return -1;
            }
            if (i + n > b.length) {
                return decode(Arrays.copyOfRange(b, i, b.length), true) ? i : -1;
            }
            if (decode(Arrays.copyOfRange(b, i, i + n)) == null) {
                return -1;
            }
            i += n;
        }
        return b.length;
    }

    /** Whether the bytes can begin a valid character (a strict decoder reports only underflow). */
    private static boolean decode(byte[] partial, boolean prefixOnly) {
        for (int extra = 0; extra < 1 << 18; extra++) {
            byte[] whole = Arrays.copyOf(partial, 4);
            int n = (partial[0] & 0xff) < 0xE0 ? 2 : (partial[0] & 0xff) < 0xF0 ? 3 : 4;
            whole = Arrays.copyOf(whole, n);
            int missing = n - partial.length;
            for (int k = 0; k < missing; k++) {
                whole[partial.length + k] = (byte) (0x80 | ((extra >> (6 * k)) & 0x3F));
            }
            if (extra >= 1 << (6 * missing)) {
                return false;
            }
            if (decode(whole) != null) {
                return true;
            }
        }
        return false;
    }

    private static String decode(byte[] b) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return d.decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String describe(byte[] b) {
        return b == null ? "(special)" : Arrays.toString(b) + " '" + new String(b, StandardCharsets.UTF_8) + "'";
    }
}

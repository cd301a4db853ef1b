package dev.ember.guided;

import dev.ember.ConfigException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The byte DFA of a regex accepts exactly what java.util.regex's full match accepts, on random strings. */
class RegexAutomatonTest {
    private static final List<String> PATTERNS = List.of(
            "abc", "a|b|cd", "(ab)*c?", "[a-c]+x{2,3}", "\\d{3}-\\d{4}", "[^ab]*", "(?:yes|no|maybe)",
            "\\w+@\\w+\\.com", "\\s*\\S+", "[é-ü]+", "é|日本|😀+", ".{0,3}", "x{2}", "x{2,}y?", "(a|ab)(c|bcd)",
            "^a+b$", "[\\-a]+", "\\x41\\u00e9", "(?<n>q)r", "[]a]", "[.]", "\\.+", "(a*)*");
    private static final String ALPHABET = "abcdxyq-@.é日本😀 \t\n0123456789ü]{},";

    private static ByteDfa dfa(String pattern) {
        return new ByteDfa(new ByteNfa(RegexParser.parse("guided_regex", pattern), pattern), pattern);
    }

    @Test
    void agreesWithJavaRegexOnRandomStrings() {
        Random random = new Random(42);
        int[] alphabet = ALPHABET.codePoints().toArray();
        for (String p : PATTERNS) {
            ByteDfa dfa = dfa(p);
            Pattern java = Pattern.compile(p);
            int positives = 0;
            for (int i = 0; i < 3000; i++) {
                StringBuilder sb = new StringBuilder();
                int len = random.nextInt(8);
                for (int k = 0; k < len; k++) {
                    sb.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
                }
                String s = sb.toString();
                boolean expected = java.matcher(s).matches();
                positives += expected ? 1 : 0;
                assertEquals(expected, dfa.matches(s.getBytes(StandardCharsets.UTF_8)), p + " on '" + s + "'");
            }
        }
    }

    @Test
    void deadPrefixesAreDeadAndLivePrefixesCanComplete() {
        ByteDfa dfa = dfa("ab(c|d)e");
        assertEquals(ByteDfa.DEAD, dfa.walk(dfa.start(), "ax".getBytes(StandardCharsets.UTF_8)));
        int s = dfa.walk(dfa.start(), "abd".getBytes(StandardCharsets.UTF_8));
        assertTrue(s >= 0);
        assertTrue(dfa.accepting(dfa.step(s, 'e')));
    }

    @Test
    void multiByteCharactersSplitAcrossBytes() {
        ByteDfa dfa = dfa("[\u00e0-\u00ff\u4e00-\u9fff]+");
        byte[] ri = "日".getBytes(StandardCharsets.UTF_8);
        int s = dfa.step(dfa.start(), ri[0] & 0xff);
        assertTrue(s >= 0 && !dfa.accepting(s), "a lead byte alone is a live, incomplete prefix");
        assertTrue(dfa.accepting(dfa.walk(s, new byte[] {ri[1], ri[2]})));
        // an invalid continuation (ASCII after a lead byte) is dead
        assertEquals(ByteDfa.DEAD, dfa.step(s, 'a'));
    }

    @Test
    void unsupportedSyntaxNamesTheConstruct() {
        ConfigException e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "(a)\\1"));
        assertTrue(e.getMessage().contains("\\1") && e.getMessage().contains("guided_regex"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "(?=a)b"));
        assertTrue(e.getMessage().contains("look-around"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "\\bword"));
        assertTrue(e.getMessage().contains("word boundary"), e.getMessage());
        assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "(ab"));
        assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "a{5,2}"));
        assertThrows(ConfigException.class, () -> Constraint.regex("[^\\x00-\\x{10FFFF}]").check());
    }

    @Test
    void escapedSurrogatePairsAreOneCharacter() {
        // Java, JavaScript and JSON Schema read \uD83D\uDE00 as U+1F600: the two UTF-16 halves of one character
        List<String> texts = List.of("😀", "😃", "🙏", "😀😀", "a", "", "\uD83D");
        for (String p : List.of("\\uD83D\\uDE00", "a|\\uD83D\\uDE00", "[\\uD83D\\uDE00-\\uD83D\\uDE4F]+")) {
            ByteDfa dfa = dfa(p);
            for (String t : texts) {
                assertEquals(Pattern.compile(p).matcher(t).matches(), dfa.matches(t.getBytes(StandardCharsets.UTF_8)),
                        p + " on '" + t + "'");
            }
        }
        // half a pair has no UTF-8 form: refused, not an automaton that silently matches nothing
        ConfigException e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "a|\\uD83D"));
        assertTrue(e.getMessage().contains("surrogate"), e.getMessage());
    }

    @Test
    void aQuantifierRightAfterAnotherIsRefused() {
        // a{1}{2}: Java matches "a", Python and JavaScript refuse it ("multiple repeat"); a{2} was enforced instead
        for (String p : List.of("a{1}{2}", "a**", "a+{2}", "a?*", "a*?+", "a{2}?{3}")) {
            ConfigException e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", p), p);
            assertTrue(e.getMessage().contains("quantifier"), e.getMessage());
        }
        // lazy forms and a group's quantifier stay: each is one quantifier
        for (String p : List.of("a*?", "a??", "a{2}?", "(?:a{2}){3}", "(a+)*")) {
            ByteDfa dfa = dfa(p);
            for (String t : List.of("", "a", "aa", "aaaaaa", "aaaaaaa")) {
                assertEquals(Pattern.compile(p).matcher(t).matches(), dfa.matches(t.getBytes(StandardCharsets.UTF_8)),
                        p + " on '" + t + "'");
            }
        }
    }

    @Test
    void classIntersectionIsRefused() {
        // [a-c&&b] is the intersection {b} in Java but the characters a-c and & in Python and JavaScript
        ConfigException e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "[a-c&&b]"));
        assertTrue(e.getMessage().contains("&&"), e.getMessage());
        assertTrue(dfa("[a&]+").matches("a&".getBytes(StandardCharsets.UTF_8)), "a single & is a literal everywhere");
    }

    @Test
    void anOpenLowerBoundIsRefused() {
        // a{,3}: zero to three a's in Python, the literal text "a{,3}" in JavaScript (and an error in Java); Ember
        // enforced the literal, so a Python user's pattern allowed none of the strings it meant
        ConfigException e = assertThrows(ConfigException.class, () -> RegexParser.parse("guided_regex", "a{,3}"));
        assertTrue(e.getMessage().contains("{,3}"), e.getMessage());
        assertTrue(dfa("a{0,3}").matches("aa".getBytes(StandardCharsets.UTF_8)));
        assertTrue(dfa("a\\{,3}").matches("a{,3}".getBytes(StandardCharsets.UTF_8)), "an escaped brace stays literal");
    }
}

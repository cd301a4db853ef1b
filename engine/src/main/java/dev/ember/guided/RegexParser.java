package dev.ember.guided;

import dev.ember.ConfigException;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses a regular expression, in the common syntax shared by Java, Python and JavaScript, into an {@link Rx}.
 * The whole output must match (as with {@code Pattern.matches}): a leading {@code ^} and a trailing {@code $} (of
 * the pattern or of a top-level alternative) are accepted and change nothing; {@link #parseSearch} gives the
 * unanchored meaning of a JSON Schema {@code pattern} instead. Supported: literals, {@code .} (any character but a newline), classes
 * {@code [a-z]} {@code [^...]}, escapes {@code \d \D \w \W \s \S \n \r \t \f \v \xHH \\uHHHH \x{H...}} and escaped
 * punctuation, groups {@code (...)} {@code (?:...)} {@code (?<name>...)}, alternation and the quantifiers
 * {@code * + ? {n} {n,} {n,m}} (lazy forms match the same strings). Anything else (back-references, look-around,
 * word boundaries, inline flags) is a {@link ConfigException} naming it: a constraint never silently means
 * something else. {@code \d}, {@code \w} and {@code \s} are ASCII, as in Java's default.
 */
final class RegexParser {
    /** Counted repetition is expanded into states: cap it so a typo cannot exhaust memory. */
    static final int MAX_REPEAT = 10_000;

    static final int[] DIGIT = {'0', '9'};
    static final int[] WORD = CharRanges.normalize(new int[] {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'});
    static final int[] SPACE = CharRanges.normalize(new int[] {'\t', '\r', ' ', ' '}); // \t \n \x0B \f \r and space
    static final int[] ANY_BUT_NEWLINE = CharRanges.complement(new int[] {'\n', '\n'});

    private final String option;
    private final String pattern;
    private final int[] cps;
    private final int[] searchAny; // null: full match; else the characters an unanchored end may add
    private int pos;

    private RegexParser(String option, String pattern, int[] searchAny) {
        this.option = option;
        this.pattern = pattern;
        this.cps = pattern.codePoints().toArray();
        this.searchAny = searchAny;
    }

    /**
     * @param option the option the pattern came from, for error messages ({@code guided_regex}, a schema's
     *               {@code pattern})
     */
    static Rx parse(String option, String pattern) {
        return parse(option, pattern, null);
    }

    /**
     * The strings in which {@code pattern} matches somewhere, as a JSON Schema {@code pattern} means (ECMA-262
     * search, not a full match): each top-level alternative not starting with {@code ^} may be preceded, and each
     * not ending with {@code $} followed, by any characters of {@code any}.
     */
    static Rx parseSearch(String option, String pattern, int[] any) {
        return parse(option, pattern, any);
    }

    private static Rx parse(String option, String pattern, int[] searchAny) {
        if (pattern == null) {
            throw ConfigException.invalid(option, null, "a regular expression");
        }
        RegexParser p = new RegexParser(option, pattern, searchAny);
        int end = p.cps.length;
        Rx rx = p.alternation(true);
        if (p.pos < end) {
            throw p.error("unbalanced ')'");
        }
        return rx;
    }

    private Rx alternation(boolean top) {
        List<Rx> options = new ArrayList<>();
        options.add(sequence(top));
        while (pos < cps.length && cps[pos] == '|') {
            pos++;
            options.add(sequence(top));
        }
        return Rx.alt(options);
    }

    private Rx sequence(boolean top) {
        List<Rx> parts = new ArrayList<>();
        boolean anchoredStart = false;
        boolean anchoredEnd = false;
        if (top && pos < cps.length && cps[pos] == '^') {
            // only as the pattern's (or a top-level alternative's) first character
            pos++;
            anchoredStart = true;
        }
        while (pos < cps.length && cps[pos] != '|' && cps[pos] != ')') {
            if (cps[pos] == '$') {
                // only as the pattern's (or a top-level alternative's) last character
                if (top && (pos + 1 == cps.length || cps[pos + 1] == '|')) {
                    pos++;
                    anchoredEnd = true;
                    continue;
                }
                throw error("'$' is supported only at the end of the pattern or of a top-level alternative");
            }
            if (cps[pos] == '^') {
                throw error("'^' is supported only at the start of the pattern or of a top-level alternative");
            }
            parts.add(quantified(atom()));
        }
        Rx seq = parts.size() == 1 ? parts.get(0) : new Rx.Concat(parts);
        if (top && searchAny != null) {
            Rx any = Rx.star(new Rx.CharSet(searchAny));
            seq = Rx.concat(anchoredStart ? Rx.EMPTY : any, seq, anchoredEnd ? Rx.EMPTY : any);
        }
        return seq;
    }

    private Rx quantified(Rx atom) {
        boolean quantified = false;
        while (pos < cps.length) {
            int c = cps[pos];
            int min;
            int max;
            if (c == '*') {
                min = 0;
                max = -1;
                pos++;
            } else if (c == '+') {
                min = 1;
                max = -1;
                pos++;
            } else if (c == '?') {
                min = 0;
                max = 1;
                pos++;
            } else if (c == '{' && isCounted()) {
                pos++;
                min = number();
                max = min;
                if (cps[pos] == ',') {
                    pos++;
                    max = cps[pos] == '}' ? -1 : number();
                }
                pos++; // '}'
                if (max >= 0 && max < min) {
                    throw error("repetition {" + min + "," + max + "} has max < min");
                }
                if (min > MAX_REPEAT || max > MAX_REPEAT) {
                    throw error("repetition count above " + MAX_REPEAT);
                }
            } else if (c == '{' && isOpenLowerBound()) {
                int close = pos;
                while (cps[close] != '}') {
                    close++;
                }
                throw error("'" + new String(cps, pos, close + 1 - pos) + "' is {0,n} in Python"
                        + " but literal text in JavaScript; write {0,n}, or \\{ for a literal brace");
            } else {
                return atom;
            }
            if (quantified) {
                // a{1}{2}, a**: Python and JavaScript refuse them, Java reads them its own way; no common meaning
                throw error("a quantifier right after another is not supported; group the first, as in (?:a{1}){2}");
            }
            quantified = true;
            if (pos < cps.length && (cps[pos] == '?')) {
                pos++; // lazy: the same set of strings
            } else if (pos < cps.length && cps[pos] == '+') {
                throw error("possessive quantifiers are not supported");
            }
            atom = new Rx.Repeat(atom, min, max);
        }
        return atom;
    }

    /** Whether '{' at pos starts {,m}: a quantifier in Python, a literal in JavaScript. */
    private boolean isOpenLowerBound() {
        int i = pos + 1;
        if (i >= cps.length || cps[i] != ',') {
            return false;
        }
        i++;
        int digits = 0;
        while (i < cps.length && Character.isDigit(cps[i])) {
            i++;
            digits++;
        }
        return digits > 0 && i < cps.length && cps[i] == '}';
    }

    /** Whether '{' at pos starts {n}, {n,} or {n,m}; otherwise it is a literal brace, as in Java. */
    private boolean isCounted() {
        int i = pos + 1;
        int digits = 0;
        while (i < cps.length && Character.isDigit(cps[i])) {
            i++;
            digits++;
        }
        if (digits == 0 || i >= cps.length) {
            return false;
        }
        if (cps[i] == '}') {
            return true;
        }
        if (cps[i] != ',') {
            return false;
        }
        i++;
        while (i < cps.length && Character.isDigit(cps[i])) {
            i++;
        }
        return i < cps.length && cps[i] == '}';
    }

    private int number() {
        int start = pos;
        while (pos < cps.length && cps[pos] >= '0' && cps[pos] <= '9') {
            pos++;
        }
        String digits = new String(cps, start, pos - start);
        if (digits.length() > 6) {
            throw error("repetition count " + digits + " above " + MAX_REPEAT);
        }
        return Integer.parseInt(digits);
    }

    private Rx atom() {
        int c = cps[pos];
        switch (c) {
            case '(' -> {
                pos++;
                if (pos < cps.length && cps[pos] == '?') {
                    pos++;
                    if (pos < cps.length && cps[pos] == ':') {
                        pos++;
                    } else if (pos < cps.length && cps[pos] == '<' && pos + 1 < cps.length
                            && cps[pos + 1] != '=' && cps[pos + 1] != '!') {
                        while (pos < cps.length && cps[pos] != '>') {
                            pos++;
                        }
                        pos++;
                    } else if (pos < cps.length && cps[pos] == 'P' && pos + 1 < cps.length && cps[pos + 1] == '<') {
                        while (pos < cps.length && cps[pos] != '>') {
                            pos++;
                        }
                        pos++;
                    } else {
                        throw error("group construct '(?" + (pos < cps.length ? new String(cps, pos, 1) : "")
                                + "' (look-around or inline flags) is not supported");
                    }
                }
                Rx inner = alternation(false);
                if (pos >= cps.length || cps[pos] != ')') {
                    throw error("missing ')'");
                }
                pos++;
                return inner;
            }
            case '[' -> {
                pos++;
                return new Rx.CharSet(charClass());
            }
            case '.' -> {
                pos++;
                return new Rx.CharSet(ANY_BUT_NEWLINE);
            }
            case '\\' -> {
                pos++;
                int[] set = escape(false);
                return new Rx.CharSet(set);
            }
            case '*', '+', '?' -> throw error("quantifier '" + (char) c + "' has nothing to repeat");
            default -> {
                pos++;
                return Rx.charRange(c, c);
            }
        }
    }

    private int[] charClass() {
        boolean negate = false;
        if (pos < cps.length && cps[pos] == '^') {
            negate = true;
            pos++;
        }
        List<Integer> ranges = new ArrayList<>();
        boolean first = true;
        while (true) {
            if (pos >= cps.length) {
                throw error("missing ']'");
            }
            int c = cps[pos];
            if (c == ']' && !first) {
                pos++;
                break;
            }
            first = false;
            if (c == '[') {
                throw error("nested character classes and class operations ('[' inside '[...]') are not supported");
            }
            if (c == '&' && pos + 1 < cps.length && cps[pos + 1] == '&') {
                // Java's class intersection, but two literal '&' in Python and JavaScript: no common meaning
                throw error("'&&' inside '[...]' (Java's class intersection) is not supported; write the class"
                        + " it means, or '\\&' for a literal '&'");
            }
            int[] lo;
            if (c == '\\') {
                pos++;
                lo = escape(true);
            } else {
                pos++;
                lo = new int[] {c, c};
            }
            if (lo.length == 2 && lo[0] == lo[1] && pos + 1 < cps.length && cps[pos] == '-' && cps[pos + 1] != ']') {
                pos++;
                int[] hi;
                if (cps[pos] == '\\') {
                    pos++;
                    hi = escape(true);
                } else {
                    hi = new int[] {cps[pos], cps[pos]};
                    pos++;
                }
                if (hi.length != 2 || hi[0] != hi[1]) {
                    throw error("a class shorthand cannot end a range");
                }
                if (hi[0] < lo[0]) {
                    throw error("range " + new String(Character.toChars(lo[0])) + "-"
                            + new String(Character.toChars(hi[0])) + " is out of order");
                }
                ranges.add(lo[0]);
                ranges.add(hi[0]);
            } else {
                for (int v : lo) {
                    ranges.add(v);
                }
            }
        }
        int[] set = CharRanges.normalize(ranges.stream().mapToInt(Integer::intValue).toArray());
        return negate ? CharRanges.complement(set) : set;
    }

    /** After a backslash: a code-point range list for one escape. */
    private int[] escape(boolean inClass) {
        if (pos >= cps.length) {
            throw error("pattern ends with a lone '\\'");
        }
        int c = cps[pos++];
        return switch (c) {
            case 'd' -> DIGIT;
            case 'D' -> CharRanges.complement(DIGIT);
            case 'w' -> WORD;
            case 'W' -> CharRanges.complement(WORD);
            case 's' -> SPACE;
            case 'S' -> CharRanges.complement(SPACE);
            case 'n' -> single('\n');
            case 'r' -> single('\r');
            case 't' -> single('\t');
            case 'f' -> single('\f');
            case 'v' -> single(0x0B);
            case '0' -> single(0);
            case 'x' -> single(notSurrogate(hex(true)));
            case 'u' -> single(utf16Escape(hex(false)));
            case 'b' -> {
                if (inClass) {
                    yield single('\b');
                }
                throw error("word boundary '\\b' is not supported");
            }
            default -> {
                if (Character.isLetterOrDigit(c)) {
                    throw error("escape '\\" + new String(Character.toChars(c)) + "' is not supported"
                            + (Character.isDigit(c) ? " (back-references cannot be enforced by an automaton)" : ""));
                }
                yield single(c);
            }
        };
    }

    /**
     * A {@code \\uHHHH} escape: a high surrogate followed by a {@code \\uHHHH} low surrogate is the one character
     * they encode in UTF-16 (as Java and JavaScript read them); half a pair has no UTF-8 form and is refused.
     */
    private int utf16Escape(int unit) {
        if (Character.isHighSurrogate((char) unit) && pos + 1 < cps.length && cps[pos] == '\\' && cps[pos + 1] == 'u') {
            int save = pos;
            pos += 2;
            int low = hex(false);
            if (Character.isLowSurrogate((char) low)) {
                return Character.toCodePoint((char) unit, (char) low);
            }
            pos = save;
        }
        return notSurrogate(unit);
    }

    private int notSurrogate(int cp) {
        if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
            throw error("lone surrogate U+" + Integer.toHexString(cp).toUpperCase(java.util.Locale.ROOT)
                    + " has no UTF-8 form; write the character, \\x{...}, or both halves of its pair");
        }
        return cp;
    }

    private int hex(boolean x) {
        if (x && pos < cps.length && cps[pos] == '{') {
            int start = pos + 1;
            int close = start;
            while (close < cps.length && cps[close] != '}') {
                close++;
            }
            if (close >= cps.length) {
                throw error("missing '}' in \\x{...}");
            }
            int v = parseHex(start, close);
            pos = close + 1;
            return v;
        }
        int digits = x ? 2 : 4;
        if (pos + digits > cps.length) {
            throw error("escape needs " + digits + " hex digits");
        }
        int v = parseHex(pos, pos + digits);
        pos += digits;
        return v;
    }

    private int parseHex(int from, int to) {
        try {
            int v = Integer.parseInt(new String(cps, from, to - from), 16);
            if (v > Rx.MAX_CODE_POINT || from == to) {
                throw error("code point out of range");
            }
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex digits '" + new String(cps, from, to - from) + "'");
        }
    }

    private static int[] single(int c) {
        return new int[] {c, c};
    }

    private ConfigException error(String what) {
        return new ConfigException(option + " " + quote(pattern) + ": " + what + " (at character " + pos + ")");
    }

    static String quote(String s) {
        return "'" + (s.length() > 200 ? s.substring(0, 200) + "..." : s) + "'";
    }
}

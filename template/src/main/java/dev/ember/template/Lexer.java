package dev.ember.template;

import dev.ember.template.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into tokens the way jinja2's lexer does under transformers' settings
 * (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
 * <ul>
 *   <li>{@code %}} and {@code #}} eat one following newline; {@code +%}} keeps it.</li>
 *   <li>Spaces and tabs before a {@code {%} or {@code {#} that starts its line are dropped; {@code {%+}
 *       keeps them; {@code {{} is never affected.</li>
 *   <li>{@code {%-}, {@code {{-}, {@code {#-} drop all whitespace before; {@code -%}}, {@code -}}},
 *       {@code -#}} all whitespace after.</li>
 *   <li>Line ends become \n and one trailing newline of the template is dropped.</li>
 * </ul>
 * Comments vanish; raw blocks become data.
 */
final class Lexer {
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(?:-%}\\s*|%})",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern RAW_BODY = Pattern.compile(
            "(.*?)(\\{%([-+]?)\\s*endraw\\s*(?:\\+%}|-%}\\s*|%}\\n?))",
            Pattern.DOTALL | Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern FLOAT = Pattern.compile(
            "(?<!\\.)(?:\\d+_)*\\d+(?:(?:\\.(?:\\d+_)*\\d+)?[eE][+\\-]?(?:\\d+_)*\\d+|\\.(?:\\d+_)*\\d+)");
    private static final Pattern INTEGER = Pattern.compile(
            "0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[0-9a-fA-F])+|[1-9](?:_?\\d)*|0(?:_?0)*");
    private static final String[] OPERATORS_2 = {"//", "**", "==", "!=", "<=", ">="};
    private static final String OPERATORS_1 = "+-/*%~[](){}<>=.:|,;";

    private final String src;
    private final SourceMap map;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    /** jinja2's line_starting: the text consumed last ended with a newline (or nothing was consumed). */
    private boolean lineStarting = true;

    private Lexer(String normalizedSource, SourceMap map) {
        this.src = normalizedSource;
        this.map = map;
    }

    /** \r\n and \r become \n, and one trailing newline goes, as jinja2 does before lexing. */
    static String normalize(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    static List<Token> tokenize(String normalizedSource, SourceMap map) {
        Lexer lexer = new Lexer(normalizedSource, map);
        lexer.run();
        return lexer.out;
    }

    private void run() {
        int n = src.length();
        while (pos < n) {
            int tag = nextTagStart(pos);
            if (tag < 0) {
                emitData(src.substring(pos), pos);
                pos = n;
                break;
            }
            String text = src.substring(pos, tag);
            char kind = src.charAt(tag + 1);
            Matcher raw = kind == '%' ? RAW_BEGIN.matcher(src).region(tag, n) : null;
            if (raw != null && raw.lookingAt()) {
                emitData(stripBefore(text, signChar(raw.group(1)), true), pos);
                lineStarting = raw.group().endsWith("\n");
                pos = raw.end();
                rawBody(tag);
                continue;
            }
            char sign = tag + 2 < n && (src.charAt(tag + 2) == '-' || src.charAt(tag + 2) == '+') ? src.charAt(tag + 2) : 0;
            emitData(stripBefore(text, sign, kind != '{'), pos);
            pos = tag + 2 + (sign != 0 ? 1 : 0);
            if (kind == '#') {
                comment(tag);
            } else {
                tagContents(tag, kind == '%');
            }
        }
        out.add(new Token(Type.EOF, "", null, n));
    }

    private int nextTagStart(int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    private static char signChar(String group) {
        return group.isEmpty() ? 0 : group.charAt(0);
    }

    /** The whitespace rules for the data in front of a tag. */
    private String stripBefore(String text, char sign, boolean lstripEligible) {
        if (sign == '-') {
            return PyStr.rstrip(text, null);
        }
        if (sign != '+' && lstripEligible) {
            int lineStart = text.lastIndexOf('\n') + 1;
            if ((lineStart > 0 || lineStarting) && lineStart < text.length() && PyStr.allSpace(text, lineStart)) {
                return text.substring(0, lineStart);
            }
        }
        return text;
    }

    private void emitData(String text, int offset) {
        if (!text.isEmpty()) {
            out.add(new Token(Type.DATA, text, null, offset));
        }
    }

    private void rawBody(int tagOffset) {
        Matcher m = RAW_BODY.matcher(src).region(pos, src.length());
        if (!m.lookingAt()) {
            throw map.error(tagOffset, "missing end of raw directive ('{% endraw %}')");
        }
        emitData(stripBefore(m.group(1), signChar(m.group(3)), true), pos);
        lineStarting = m.group(2).endsWith("\n");
        pos = m.end();
    }

    private void comment(int tagOffset) {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
            throw map.error(tagOffset, "missing end of comment tag ('#}')");
        }
        char sign = end - 1 >= pos && (src.charAt(end - 1) == '-' || src.charAt(end - 1) == '+') ? src.charAt(end - 1) : 0;
        pos = end + 2;
        afterEnd(sign);
    }

    /** Consumes what follows a closing marker: all whitespace after '-', nothing after '+', else one \n. */
    private void afterEnd(char sign) {
        int start = pos;
        if (sign == '-') {
            while (pos < src.length() && PyStr.isSpace(src.charAt(pos))) {
                pos++;
            }
        } else if (sign != '+' && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        lineStarting = pos > start ? src.charAt(pos - 1) == '\n' : false;
    }

    private void tagContents(int tagOffset, boolean block) {
        out.add(new Token(block ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, block ? "{%" : "{{", null, tagOffset));
        List<Character> balance = new ArrayList<>();
        int n = src.length();
        while (true) {
            while (pos < n && PyStr.isSpace(src.charAt(pos))) {
                pos++;
            }
            if (pos >= n) {
                throw map.error(tagOffset, "unexpected end of template: the " + (block ? "'{%' tag" : "'{{' tag")
                        + " is never closed with " + (block ? "'%}'" : "'}}'"));
            }
            if (balance.isEmpty() && closesTag(block)) {
                return;
            }
            lexToken(balance);
        }
    }

    private boolean closesTag(boolean block) {
        int at = pos;
        if (block) {
            if (src.startsWith("+%}", pos)) {
                pos += 3;
                out.add(new Token(Type.BLOCK_END, "%}", null, at));
                lineStarting = false;
                return true;
            }
            if (src.startsWith("-%}", pos) || src.startsWith("%}", pos)) {
                char sign = src.charAt(pos) == '-' ? '-' : 0;
                pos += sign != 0 ? 3 : 2;
                out.add(new Token(Type.BLOCK_END, "%}", null, at));
                afterEnd(sign);
                return true;
            }
            return false;
        }
        if (src.startsWith("-}}", pos) || src.startsWith("}}", pos)) {
            char sign = src.charAt(pos) == '-' ? '-' : 0;
            pos += sign != 0 ? 3 : 2;
            out.add(new Token(Type.VAR_END, "}}", null, at));
            if (sign != 0) {
                afterEnd(sign);
            } else {
                lineStarting = false;
            }
            return true;
        }
        return false;
    }

    private void lexToken(List<Character> balance) {
        int n = src.length();
        char c = src.charAt(pos);
        int at = pos;
        if (Character.isDigit(c) && c < 128) {
            Matcher f = FLOAT.matcher(src).region(pos, n).useTransparentBounds(true);
            if (f.lookingAt()) {
                pos = f.end();
                out.add(new Token(Type.FLOAT, f.group(), Double.parseDouble(f.group().replace("_", "")), at));
                return;
            }
            Matcher i = INTEGER.matcher(src).region(pos, n);
            if (i.lookingAt()) {
                pos = i.end();
                out.add(new Token(Type.INTEGER, i.group(), parseInteger(i.group(), at), at));
                return;
            }
        }
        int cp = src.codePointAt(pos);
        if (cp == '_' || Character.isUnicodeIdentifierStart(cp)) {
            int end = pos + Character.charCount(cp);
            while (end < n) {
                int next = src.codePointAt(end);
                if (next != '_' && !(Character.isUnicodeIdentifierPart(next) && !Character.isIdentifierIgnorable(next))) {
                    break;
                }
                end += Character.charCount(next);
            }
            out.add(new Token(Type.NAME, src.substring(pos, end), null, at));
            pos = end;
            return;
        }
        if (c == '\'' || c == '"') {
            string(c);
            return;
        }
        for (String op : OPERATORS_2) {
            if (src.startsWith(op, pos)) {
                pos += 2;
                out.add(new Token(Type.OP, op, null, at));
                return;
            }
        }
        if (OPERATORS_1.indexOf(c) >= 0) {
            pos++;
            if (c == '(' || c == '[' || c == '{') {
                balance.add(c == '(' ? ')' : c == '[' ? ']' : '}');
            } else if (c == ')' || c == ']' || c == '}') {
                if (balance.isEmpty()) {
                    throw map.error(at, "unexpected '" + c + "'");
                }
                char expected = balance.remove(balance.size() - 1);
                if (expected != c) {
                    throw map.error(at, "unexpected '" + c + "', expected '" + expected + "'");
                }
            }
            out.add(new Token(Type.OP, String.valueOf(c), null, at));
            return;
        }
        throw map.error(at, "unexpected character '" + new String(Character.toChars(cp)) + "'");
    }

    private Long parseInteger(String literal, int at) {
        String digits = literal.replace("_", "");
        int radix = 10;
        if (digits.length() > 1 && Character.isLetter(digits.charAt(1))) {
            char p = Character.toLowerCase(digits.charAt(1));
            radix = p == 'b' ? 2 : p == 'o' ? 8 : 16;
            digits = digits.substring(2);
        }
        try {
            return Long.parseLong(digits, radix);
        } catch (NumberFormatException e) {
            throw map.error(at, "integer literal " + literal + " does not fit in 64 bits");
        }
    }

    private void string(char quote) {
        int at = pos;
        int i = pos + 1;
        int n = src.length();
        while (i < n && src.charAt(i) != quote) {
            i += src.charAt(i) == '\\' ? 2 : 1;
        }
        if (i >= n) {
            throw map.error(at, "unterminated string literal");
        }
        String body = src.substring(pos + 1, i);
        pos = i + 1;
        out.add(new Token(Type.STRING, unescape(body, at), null, at));
    }

    /** Python's unicode-escape decoding, which jinja2 applies to string literals. */
    private String unescape(String s, int at) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\n': break;
                case '\\': b.append('\\'); break;
                case '\'': b.append('\''); break;
                case '"': b.append('"'); break;
                case 'a': b.append('\u0007'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'v': b.append('\u000b'); break;
                case 'x': i = hexEscape(s, i, 2, b, at); break;
                case 'u': i = hexEscape(s, i, 4, b, at); break;
                case 'U': i = hexEscape(s, i, 8, b, at); break;
                case 'N': i = namedEscape(s, i, b, at); break;
                default:
                    if (e >= '0' && e <= '7') {
                        int end = i;
                        while (end < s.length() && end < i + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') {
                            end++;
                        }
                        b.appendCodePoint(Integer.parseInt(s.substring(i, end), 8));
                        i = end - 1;
                    } else {
                        b.append('\\').append(e);
                    }
            }
        }
        return b.toString();
    }

    private int hexEscape(String s, int i, int digits, StringBuilder b, int at) {
        if (i + digits >= s.length()) {
            throw map.error(at, "truncated \\" + s.charAt(i) + " escape in string literal");
        }
        String hex = s.substring(i + 1, i + 1 + digits);
        int cp;
        try {
            cp = Integer.parseUnsignedInt(hex, 16);
        } catch (NumberFormatException e) {
            throw map.error(at, "truncated \\" + s.charAt(i) + " escape in string literal");
        }
        if (!hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0) || !Character.isValidCodePoint(cp)) {
            throw map.error(at, "bad \\" + s.charAt(i) + " escape '" + hex + "' in string literal");
        }
        b.appendCodePoint(cp);
        return i + digits;
    }

    private int namedEscape(String s, int i, StringBuilder b, int at) {
        int close = s.indexOf('}', i);
        if (i + 1 >= s.length() || s.charAt(i + 1) != '{' || close < 0) {
            throw map.error(at, "malformed \\N{...} escape in string literal");
        }
        try {
            b.appendCodePoint(Character.codePointOf(s.substring(i + 2, close)));
        } catch (IllegalArgumentException e) {
            throw map.error(at, "unknown Unicode character name in \\N{" + s.substring(i + 2, close) + "}");
        }
        return close;
    }
}

package dev.ember.template;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Python str semantics over Java strings: indices count code points, whitespace is Python's isspace. */
final class PyStr {
    private PyStr() {
    }

    /** Python's str.isspace for one code point (also what the regex \s matches in jinja2's lexer). */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0x2028 || cp == 0x2029
                || (cp > 0x7f && Character.getType(cp) == Character.SPACE_SEPARATOR);
    }

    static boolean allSpace(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (!isSpace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /** The code points of s as one-character strings (Python iteration over a str). */
    static List<Object> chars(String s) {
        List<Object> out = new ArrayList<>(s.length());
        s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
        return out;
    }

    private static boolean inChars(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0 || chars.codePoints().anyMatch(c -> c == cp);
    }

    static String strip(String s, String chars) {
        return rstrip(lstrip(s, chars), chars);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!inChars(cp, chars)) {
                break;
            }
            i += Character.charCount(cp);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!inChars(cp, chars)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    static List<Object> split(String s, String sep, long maxSplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i >= n) {
                    break;
                }
                if (maxSplit >= 0 && out.size() >= maxSplit) {
                    out.add(s.substring(i));
                    break;
                }
                int start = i;
                while (i < n && !isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                out.add(s.substring(start, i));
            }
            return out;
        }
        requireSeparator(sep);
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long maxSplit) {
        if (maxSplit < 0) {
            return split(s, sep, -1);
        }
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int end = s.length();
            while (true) {
                while (end > 0 && isSpace(s.codePointBefore(end))) {
                    end -= Character.charCount(s.codePointBefore(end));
                }
                if (end <= 0) {
                    break;
                }
                if (out.size() >= maxSplit) {
                    out.add(s.substring(0, end));
                    break;
                }
                int stop = end;
                while (end > 0 && !isSpace(s.codePointBefore(end))) {
                    end -= Character.charCount(s.codePointBefore(end));
                }
                out.add(s.substring(end, stop));
            }
        } else {
            requireSeparator(sep);
            int end = s.length();
            while (out.size() < maxSplit) {
                int at = s.lastIndexOf(sep, end - sep.length());
                if (at < 0) {
                    break;
                }
                out.add(s.substring(at + sep.length(), end));
                end = at;
            }
            out.add(s.substring(0, end));
        }
        Collections.reverse(out);
        return out;
    }

    private static void requireSeparator(String sep) {
        if (sep.isEmpty()) {
            throw new TemplateException("ValueError: empty separator");
        }
    }

    private static boolean isLineBreak(char c) {
        return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85
                || c == 0x2028 || c == 0x2029;
    }

    static List<Object> splitLines(String s, boolean keepEnds) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isLineBreak(c)) {
                int eol = i + (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1);
                out.add(s.substring(start, keepEnds ? eol : i));
                start = eol;
                i = eol;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    /** Python str.title: a cased character after an uncased one starts a word. */
    static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            String one = new String(Character.toChars(cp));
            if (isCased(cp)) {
                b.append(previousCased ? lower(one) : titleCase(cp));
                previousCased = true;
            } else {
                b.append(one);
                previousCased = false;
            }
        }
        return b.toString();
    }

    private static String titleCase(int cp) {
        int t = Character.toTitleCase(cp);
        if (t != cp || Character.isTitleCase(cp)) {
            return new String(Character.toChars(t));
        }
        return upper(new String(Character.toChars(cp)));
    }

    /** Python str.capitalize: first character title-cased, the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int cp = s.codePointAt(0);
        return titleCase(cp) + lower(s.substring(Character.charCount(cp)));
    }

    static String swapCase(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            String one = new String(Character.toChars(cp));
            b.append(Character.isUpperCase(cp) ? lower(one) : Character.isLowerCase(cp) ? upper(one) : one);
        });
        return b.toString();
    }

    static boolean isLower(String s) {
        boolean cased = false;
        for (int cp : s.codePoints().toArray()) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isLowerCase(cp);
        }
        return cased;
    }

    static boolean isUpper(String s) {
        boolean cased = false;
        for (int cp : s.codePoints().toArray()) {
            if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isUpperCase(cp);
        }
        return cased;
    }

    /** Python str.replace, including the empty-pattern case that inserts between every character. */
    static String replace(String s, String old, String replacement, long count, Budget budget) {
        if (count < 0) {
            count = Long.MAX_VALUE;
        }
        StringBuilder b = new StringBuilder();
        if (old.isEmpty()) {
            long done = 0;
            int i = 0;
            while (true) {
                if (done < count) {
                    b.append(replacement);
                    done++;
                }
                if (i >= s.length()) {
                    break;
                }
                int cp = s.codePointAt(i);
                b.appendCodePoint(cp);
                i += Character.charCount(cp);
                budget.checkSize(b.length());
            }
            return b.toString();
        }
        int from = 0;
        long done = 0;
        while (done < count) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            b.append(s, from, at).append(replacement);
            budget.checkSize(b.length());
            from = at + old.length();
            done++;
        }
        return b.append(s, from, s.length()).toString();
    }

    /** Non-overlapping occurrences, Python's str.count ("" occurs len+1 times). */
    static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return length(s) + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    /** Code-point index of the first (or last) occurrence, or -1. */
    static long find(String s, String sub, boolean last) {
        int at = last ? s.lastIndexOf(sub) : s.indexOf(sub);
        return at < 0 ? -1 : s.codePointCount(0, at);
    }

    static String center(String s, int width, String fill) {
        int len = length(s);
        if (width <= len) {
            return s;
        }
        int total = width - len;
        // CPython puts the extra pad on the right when the string length is even... on the left when odd
        int left = total / 2 + (total & width & 1);
        return fill.repeat(left) + s + fill.repeat(total - left);
    }

    static String codePointSubstring(String s, int startCp, int endCp) {
        int start = s.offsetByCodePoints(0, startCp);
        int end = s.offsetByCodePoints(start, endCp - startCp);
        return s.substring(start, end);
    }
}

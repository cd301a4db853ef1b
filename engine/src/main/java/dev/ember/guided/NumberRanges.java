package dev.ember.guided;

import java.util.ArrayList;
import java.util.List;

/**
 * Regular expressions for ranges of natural numbers written in decimal without leading zeros: the digit-by-digit
 * split ({@code [17, 342]} is {@code 1[7-9] | [2-9]\d | [1-2]\d\d | 3[0-3]\d | 34[0-2]}). Stateless.
 */
final class NumberRanges {
    private static final Rx DIGIT = new Rx.CharSet(new int[] {'0', '9'});

    private NumberRanges() {
    }

    /** Alternatives matching exactly the decimals of n in [lo, hi] (hi null: unbounded); lo >= 0. */
    static List<Rx> naturals(long lo, Long hi) {
        List<Rx> out = new ArrayList<>();
        if (hi != null && hi < lo) {
            return out;
        }
        int loLen = Long.toString(lo).length();
        int hiLen = hi == null ? 19 : Long.toString(hi).length();
        for (int len = loLen; len <= hiLen; len++) {
            long first = len == 1 ? 0 : pow10(len - 1);
            long last = len >= 19 ? Long.MAX_VALUE : pow10(len) - 1;
            long a = Math.max(lo, first);
            long b = hi == null ? last : Math.min(hi, last);
            if (a <= b) {
                sameLength(Long.toString(a), len >= 19 && hi == null ? "9".repeat(len) : Long.toString(b), out);
            }
        }
        if (hi == null) {
            // 20 digits and more: any
            out.add(Rx.concat(new Rx.CharSet(new int[] {'1', '9'}), new Rx.Repeat(DIGIT, 19, -1)));
        }
        return out;
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    /** Digit strings of one length between a and b inclusive (a <= b lexicographically). */
    private static void sameLength(String a, String b, List<Rx> out) {
        int n = a.length();
        if (a.equals(b)) {
            out.add(Rx.literal(a));
            return;
        }
        int p = 0;
        while (a.charAt(p) == b.charAt(p)) {
            p++;
        }
        String prefix = a.substring(0, p);
        String ar = a.substring(p + 1);
        String br = b.substring(p + 1);
        int rest = n - p - 1;
        char a0 = a.charAt(p);
        char b0 = b.charAt(p);
        boolean aZeros = ar.chars().allMatch(c -> c == '0');
        boolean bNines = br.chars().allMatch(c -> c == '9');
        char midLo = aZeros ? a0 : (char) (a0 + 1);
        char midHi = bNines ? b0 : (char) (b0 - 1);
        if (!aZeros) {
            List<Rx> tails = new ArrayList<>();
            sameLength(ar, "9".repeat(rest), tails);
            for (Rx t : tails) {
                out.add(Rx.concat(Rx.literal(prefix + a0), t));
            }
        }
        if (midLo <= midHi) {
            out.add(Rx.concat(Rx.literal(prefix), new Rx.CharSet(new int[] {midLo, midHi}), new Rx.Repeat(DIGIT, rest, rest)));
        }
        if (!bNines) {
            List<Rx> tails = new ArrayList<>();
            sameLength("0".repeat(rest), br, tails);
            for (Rx t : tails) {
                out.add(Rx.concat(Rx.literal(prefix + b0), t));
            }
        }
    }
}

package dev.ember.guided;

import java.util.List;

/**
 * Splits a code-point range into UTF-8 byte-range sequences (the construction RE2 and Rust's regex use): each
 * sequence is {@code [lo0, hi0, lo1, hi1, ...]} for 1 to 4 bytes, and the sequences together match exactly the
 * UTF-8 encodings of the range. Surrogates (U+D800..U+DFFF) have no UTF-8 form and are left out. Stateless.
 */
final class Utf8Ranges {
    private Utf8Ranges() {
    }

    static void split(int lo, int hi, List<int[]> out) {
        if (lo > hi) {
            return;
        }
        for (int bound : new int[] {0x7F, 0x7FF, 0xFFFF}) {
            if (lo <= bound && hi > bound) {
                split(lo, bound, out);
                split(bound + 1, hi, out);
                return;
            }
        }
        if (lo <= 0xDFFF && hi >= 0xD800) {
            split(lo, 0xD7FF, out);
            split(0xE000, hi, out);
            return;
        }
        if (hi <= 0x7F) {
            out.add(new int[] {lo, hi});
            return;
        }
        for (int i = 1; i < 4; i++) {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    split(lo, lo | m, out);
                    split((lo | m) + 1, hi, out);
                    return;
                }
                if ((hi & m) != m) {
                    split(lo, (hi & ~m) - 1, out);
                    split(hi & ~m, hi, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo);
        byte[] b = encode(hi);
        int[] seq = new int[2 * a.length];
        for (int k = 0; k < a.length; k++) {
            seq[2 * k] = a[k] & 0xff;
            seq[2 * k + 1] = b[k] & 0xff;
        }
        out.add(seq);
    }

    static byte[] encode(int cp) {
        return new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}

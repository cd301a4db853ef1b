package dev.ember.guided;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Set algebra on code-point range lists ({@code [lo0, hi0, lo1, hi1, ...]}, inclusive). Stateless. */
final class CharRanges {
    private CharRanges() {
    }

    /** Sorts and merges overlapping or adjacent ranges. */
    static int[] normalize(int[] ranges) {
        int n = ranges.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            packed[i] = ((long) ranges[2 * i] << 32) | (ranges[2 * i + 1] & 0xffffffffL);
        }
        Arrays.sort(packed);
        List<int[]> out = new ArrayList<>();
        for (long p : packed) {
            int lo = (int) (p >>> 32);
            int hi = (int) p;
            if (lo > hi) {
                continue;
            }
            if (!out.isEmpty() && lo <= out.get(out.size() - 1)[1] + 1) {
                int[] last = out.get(out.size() - 1);
                last[1] = Math.max(last[1], hi);
            } else {
                out.add(new int[] {lo, hi});
            }
        }
        int[] r = new int[out.size() * 2];
        for (int i = 0; i < out.size(); i++) {
            r[2 * i] = out.get(i)[0];
            r[2 * i + 1] = out.get(i)[1];
        }
        return r;
    }

    static int[] union(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return normalize(all);
    }

    /** Everything in [0, MAX_CODE_POINT] not in the (normalized) set. */
    static int[] complement(int[] set) {
        int[] s = normalize(set);
        List<Integer> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < s.length; i += 2) {
            if (s[i] > next) {
                out.add(next);
                out.add(s[i] - 1);
            }
            next = s[i + 1] + 1;
        }
        if (next <= Rx.MAX_CODE_POINT) {
            out.add(next);
            out.add(Rx.MAX_CODE_POINT);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] intersect(int[] a, int[] b) {
        return complement(union(complement(a), complement(b)));
    }

    static boolean contains(int[] set, int cp) {
        for (int i = 0; i < set.length; i += 2) {
            if (cp >= set[i] && cp <= set[i + 1]) {
                return true;
            }
        }
        return false;
    }
}

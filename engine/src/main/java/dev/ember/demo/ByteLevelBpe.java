package dev.ember.demo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns byte-level BPE merges from a text, the way GPT-2 style tokenizers are trained: split into words with
 * the GPT-2 pattern, spell each word in the byte-to-unicode alphabet, then repeatedly merge the most frequent
 * adjacent pair. Deterministic: ties go to the lexicographically smallest pair, and a pair whose merged string
 * is already a token is skipped, so every merge adds exactly one new token.
 */
final class ByteLevelBpe {
    /** The GPT-2 pre-tokenizer pattern (contractions, letters, digits, other symbols, whitespace). */
    private static final Pattern WORDS = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private ByteLevelBpe() {
    }

    /**
     * GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68 bytes
     * (controls, space, DEL, NBSP, soft hyphen...) are moved to U+0100 onwards so that every token is visible text.
     */
    static char[] byteToUnicode() {
        char[] table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char) b : (char) next++;
        }
        return table;
    }

    /** The merges learned from {@code text}, in rank order, as (left, right) pairs of alphabet strings. */
    static List<String[]> learnMerges(String text, int numMerges) {
        char[] alphabet = byteToUnicode();
        // symbols are token ids: 0..255 the bytes, then one id per merge
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> tokenIds = new HashMap<>();
        for (char c : alphabet) {
            tokenIds.put(String.valueOf(c), tokens.size());
            tokens.add(String.valueOf(c));
        }
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        Matcher m = WORDS.matcher(text);
        while (m.find()) {
            wordCounts.merge(m.group(), 1, Integer::sum);
        }
        List<int[]> words = new ArrayList<>();
        int[] counts = new int[wordCounts.size()];
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] symbols = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                symbols[i] = bytes[i] & 0xff;
            }
            counts[words.size()] = e.getValue();
            words.add(symbols);
        }

        // pair counts are kept up to date as words change, so each merge costs only the words it touches
        Map<Long, Integer> pairCounts = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            countPairs(words.get(w), counts[w], pairCounts);
        }
        List<String[]> merges = new ArrayList<>();
        Set<Long> duplicates = new HashSet<>();
        while (merges.size() < numMerges) {
            long best = mostFrequentPair(pairCounts, tokens, duplicates);
            if (best < 0) {
                throw new IllegalStateException("the training text yields only " + merges.size() + " merges; "
                        + numMerges + " were asked for");
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String merged = tokens.get(left) + tokens.get(right);
            if (tokenIds.containsKey(merged)) {
                duplicates.add(best); // another pair already spells this token; take the next best instead
                continue;
            }
            int id = tokens.size();
            tokenIds.put(merged, id);
            tokens.add(merged);
            merges.add(new String[] {tokens.get(left), tokens.get(right)});
            for (int w = 0; w < words.size(); w++) {
                int[] before = words.get(w);
                int[] after = merge(before, left, right, id);
                if (after != before) {
                    countPairs(before, -counts[w], pairCounts);
                    countPairs(after, counts[w], pairCounts);
                    words.set(w, after);
                }
            }
        }
        return merges;
    }

    private static void countPairs(int[] s, int delta, Map<Long, Integer> pairCounts) {
        for (int i = 0; i + 1 < s.length; i++) {
            pairCounts.merge(((long) s[i] << 32) | s[i + 1], delta, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    /** The pair with the highest count (ties: the smaller "left right" string), or -1 when none is left. */
    private static long mostFrequentPair(Map<Long, Integer> pairCounts, List<String> tokens, Set<Long> excluded) {
        long best = -1;
        int bestCount = 0;
        for (Map.Entry<Long, Integer> e : pairCounts.entrySet()) {
            long pair = e.getKey();
            int c = e.getValue();
            if (excluded.contains(pair)) {
                continue;
            }
            if (c > bestCount || (c == bestCount && spelled(pair, tokens).compareTo(spelled(best, tokens)) < 0)) {
                best = pair;
                bestCount = c;
            }
        }
        return best;
    }

    private static String spelled(long pair, List<String> tokens) {
        // a space never occurs inside an alphabet symbol, so "left right" identifies the pair
        return tokens.get((int) (pair >>> 32)) + " " + tokens.get((int) pair);
    }

    private static int[] merge(int[] symbols, int left, int right, int id) {
        int first = -1;
        for (int i = 0; i + 1 < symbols.length && first < 0; i++) {
            if (symbols[i] == left && symbols[i + 1] == right) {
                first = i;
            }
        }
        if (first < 0) {
            return symbols;
        }
        int[] out = new int[symbols.length];
        int n = 0;
        for (int i = 0; i < symbols.length; i++) {
            if (i + 1 < symbols.length && symbols[i] == left && symbols[i + 1] == right) {
                out[n++] = id;
                i++;
            } else {
                out[n++] = symbols[i];
            }
        }
        return Arrays.copyOf(out, n);
    }
}

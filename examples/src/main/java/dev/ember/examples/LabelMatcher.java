package dev.ember.examples;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * Maps a generated text to the label it names first: the label whose earliest whole-word, case-insensitive
 * occurrence comes first in the text (at the same position the longer label wins, so "very positive" beats
 * "positive"); {@value #UNKNOWN} when it names none. Immutable; serializable (it runs inside a Spark UDF).
 */
final class LabelMatcher implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String UNKNOWN = "unknown";

    private final List<String> labels;

    LabelMatcher(List<String> labels) {
        if (labels.isEmpty()) {
            throw new UsageException("--labels needs at least one label");
        }
        this.labels = List.copyOf(labels);
    }

    String match(String text) {
        if (text == null) {
            return UNKNOWN;
        }
        String t = text.toLowerCase(Locale.ROOT);
        String best = UNKNOWN;
        int bestAt = Integer.MAX_VALUE;
        for (String label : labels) {
            int at = firstWord(t, label.toLowerCase(Locale.ROOT));
            if (at >= 0 && (at < bestAt || at == bestAt && label.length() > best.length())) {
                best = label;
                bestAt = at;
            }
        }
        return best;
    }

    private static int firstWord(String text, String word) {
        for (int at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
            int end = at + word.length();
            boolean startOk = at == 0 || !Character.isLetterOrDigit(text.charAt(at - 1));
            boolean endOk = end == text.length() || !Character.isLetterOrDigit(text.charAt(end));
            if (startOk && endOk) {
                return at;
            }
        }
        return -1;
    }
}

package dev.ember.engine;

import java.util.List;

/** Finds the earliest stop string in generated text; the match and everything after it are cut. Immutable. */
final class StopStrings {
    private final List<String> stops;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    boolean isEmpty() {
        return stops.isEmpty();
    }

    /**
     * Index where the first stop string that ends after {@code text[0, from)} starts in {@code text}, or -1: matches
     * inside the first {@code from} characters do not count (they came before min_tokens).
     */
    int firstMatch(String text, int from) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, Math.max(0, from - s.length() + 1));
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}

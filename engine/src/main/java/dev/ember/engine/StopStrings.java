package dev.ember.engine;

import java.util.List;

/** Finds the earliest stop string in generated text; the match and everything after it are cut. Immutable. */
final class StopStrings {
    private final List<String> stops;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Index where the first stop string starts in {@code text}, or -1. */
    boolean isEmpty() {
        return stops.isEmpty();
    }

    int firstMatch(String text) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}

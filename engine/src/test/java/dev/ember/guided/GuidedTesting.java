package dev.ember.guided;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.regex.Pattern;

/** Independent checks of guided outputs for tests in other packages (no automaton involved). */
public final class GuidedTesting {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GuidedTesting() {
    }

    public static Path qwenTokenizer() {
        return Fixtures.qwenTokenizer();
    }

    /** Whether {@code text} satisfies {@code c}: list membership, java.util.regex full match, or a schema walk. */
    public static boolean satisfies(Constraint c, String text) {
        return whyNot(c, text) == null;
    }

    public static String whyNot(Constraint c, String text) {
        if (text == null) {
            return "no text";
        }
        return switch (c.kind()) {
            case CHOICE -> c.choices().contains(text) ? null : "not one of the choices";
            case REGEX -> Pattern.compile(c.pattern()).matcher(text).matches() ? null : "no full regex match";
            case JSON -> {
                try {
                    yield SchemaValidator.validate(JSON.readTree(c.pattern()), text);
                } catch (Exception e) {
                    yield e.toString();
                }
            }
        };
    }
}

package dev.ember.examples;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelMatcherTest {
    private final LabelMatcher m = new LabelMatcher(List.of("positive", "negative", "very positive", "neutral"));

    @Test
    void firstNamedLabelWholeWordCaseInsensitive() {
        assertEquals("negative", m.match(" Negative, not positive"));
        assertEquals("very positive", m.match("Very positive!"));
        assertEquals("positive", m.match("positive\nnegative"));
        assertEquals("unknown", m.match("positively neutralized"));
        assertEquals("neutral", m.match("positively neutral"));
        assertEquals("unknown", m.match(null));
        assertEquals("unknown", m.match(""));
    }

    @Test
    void templateUnknownPlaceholderNamesColumns() {
        UsageException e = assertThrows(UsageException.class,
                () -> PromptTemplate.column("Classify {txt}", Set.of("id", "text"), List.of("a")));
        assertTrue(e.getMessage().contains("{txt}") && e.getMessage().contains("text"), e.getMessage());
        assertThrows(UsageException.class, () -> new LabelMatcher(List.of()));
    }
}

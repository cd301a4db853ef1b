package dev.ember.examples;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobArgsTest {
    private static final Set<String> VALUED = Set.of("input", "output");
    private static final Set<String> FLAGS = Set.of("resume");

    @Test
    void jobArgumentsFlagsAndEmberOptionsInEverySpelling() {
        JobArgs a = JobArgs.parse(new String[]{"--input", "in.jsonl", "--output=out", "--resume",
                "--option", "temperature=0.5", "--max-tokens", "8", "--fail-on-error", "true", "--MODEL", "demo",
                "--option=stop=END"}, VALUED, FLAGS);
        assertEquals("in.jsonl", a.required("input"));
        assertEquals("out", a.required("output"));
        assertTrue(a.flag("resume"));
        assertEquals(Map.of("temperature", "0.5", "max_tokens", "8", "fail_on_error", "true", "model", "demo",
                "stop", "END"), a.options());
        assertEquals("1", a.optionsOver(Map.of("temperature", "0", "seed", "1")).get("seed"));
        assertEquals("0.5", a.optionsOver(Map.of("temperature", "0")).get("temperature"));
    }

    @Test
    void errorsNameTheArgument() {
        assertTrue(assertThrows(UsageException.class, () -> JobArgs.parse(new String[]{"--bogus", "1"}, VALUED, FLAGS))
                .getMessage().contains("--bogus"));
        assertTrue(assertThrows(UsageException.class, () -> JobArgs.parse(new String[]{"--input"}, VALUED, FLAGS))
                .getMessage().contains("--input needs a value"));
        assertTrue(assertThrows(UsageException.class, () -> JobArgs.parse(new String[]{"--option", "x"}, VALUED, FLAGS))
                .getMessage().contains("name=value"));
        assertTrue(assertThrows(UsageException.class, () -> JobArgs.parse(new String[]{"in"}, VALUED, FLAGS))
                .getMessage().contains("unexpected argument 'in'"));
        assertTrue(assertThrows(UsageException.class, () -> JobArgs.parse(new String[]{}, VALUED, FLAGS).required("input"))
                .getMessage().contains("--input is required"));
    }

    @Test
    void usageTextsMentionEveryArgument() {
        for (String v : BatchGenerate.VALUED) {
            assertTrue(BatchGenerate.usage().contains("--" + v + " "), v);
        }
        for (String v : LabelDataset.VALUED) {
            assertTrue(LabelDataset.usage().contains("--" + v + " "), v);
        }
    }
}

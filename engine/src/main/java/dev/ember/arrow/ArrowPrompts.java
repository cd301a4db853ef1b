package dev.ember.arrow;

import org.apache.arrow.vector.VarCharVector;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads prompts from an Arrow utf8 column; a null cell stays null (the engine answers it with an error row). */
public final class ArrowPrompts {
    private ArrowPrompts() {
    }

    public static List<String> read(VarCharVector prompts) {
        List<String> out = new ArrayList<>(prompts.getValueCount());
        for (int i = 0; i < prompts.getValueCount(); i++) {
            out.add(prompts.isNull(i) ? null : new String(prompts.get(i), StandardCharsets.UTF_8));
        }
        return out;
    }
}

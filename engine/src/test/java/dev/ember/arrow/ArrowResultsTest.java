package dev.ember.arrow;

import dev.ember.api.FinishReason;
import dev.ember.api.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrowResultsTest {

    @Test
    void writesOneRowPerResultWithNullsForErrors() {
        List<Result> results = List.of(
                new Result("a", "héllo 世界", new int[]{5, 6, 7}, FinishReason.STOP, 3, 3, null, List.of()),
                Result.error("b", "prompt is empty", 0),
                new Result("c", "", new int[0], FinishReason.LENGTH, 9, 0, null, List.of()));
        try (BufferAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = ArrowResults.toRoot(results, allocator)) {
            assertEquals(3, root.getRowCount());
            VarCharVector text = (VarCharVector) root.getVector(ArrowResults.TEXT);
            assertEquals("héllo 世界", new String(text.get(0), StandardCharsets.UTF_8));
            assertTrue(text.isNull(1));
            assertEquals("", new String(text.get(2), StandardCharsets.UTF_8));
            ListVector ids = (ListVector) root.getVector(ArrowResults.TOKEN_IDS);
            assertEquals(List.of(5, 6, 7), ids.getObject(0));
            assertEquals(List.of(), ids.getObject(1));
            VarCharVector finish = (VarCharVector) root.getVector(ArrowResults.FINISH_REASON);
            assertEquals(Arrays.asList("stop", "error", "length"),
                    Arrays.asList(finish.getObject(0).toString(), finish.getObject(1).toString(), finish.getObject(2).toString()));
            assertEquals(9, ((IntVector) root.getVector(ArrowResults.PROMPT_TOKENS)).get(2));
            assertEquals(3, ((IntVector) root.getVector(ArrowResults.COMPLETION_TOKENS)).get(0));
            VarCharVector error = (VarCharVector) root.getVector(ArrowResults.ERROR);
            assertNull(error.getObject(0));
            assertEquals("prompt is empty", error.getObject(1).toString());
        }
    }

    @Test
    void readsPromptsKeepingNulls() {
        try (BufferAllocator allocator = new RootAllocator();
             VarCharVector v = new VarCharVector("prompt", allocator)) {
            v.allocateNew();
            v.setSafe(0, "a b".getBytes(StandardCharsets.UTF_8));
            v.setNull(1);
            v.setSafe(2, "ü".getBytes(StandardCharsets.UTF_8));
            v.setValueCount(3);
            assertEquals(Arrays.asList("a b", null, "ü"), ArrowPrompts.read(v));
        }
    }
}

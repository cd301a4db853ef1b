package dev.ember.arrow;

import dev.ember.api.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Engine results as Arrow columns, one row per result in order: {@code text} (utf8, null on error),
 * {@code token_ids} (list&lt;int32&gt;), {@code finish_reason} (utf8), {@code prompt_tokens} and
 * {@code completion_tokens} (int32), {@code error} (utf8, null when fine).
 */
public final class ArrowResults {
    public static final String TEXT = "text";
    public static final String TOKEN_IDS = "token_ids";
    public static final String FINISH_REASON = "finish_reason";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String COMPLETION_TOKENS = "completion_tokens";
    public static final String ERROR = "error";

    public static final Schema SCHEMA = new Schema(List.of(
            Field.nullable(TEXT, ArrowType.Utf8.INSTANCE),
            new Field(TOKEN_IDS, FieldType.nullable(ArrowType.List.INSTANCE),
                    List.of(Field.notNullable("element", new ArrowType.Int(32, true)))),
            Field.nullable(FINISH_REASON, ArrowType.Utf8.INSTANCE),
            Field.nullable(PROMPT_TOKENS, new ArrowType.Int(32, true)),
            Field.nullable(COMPLETION_TOKENS, new ArrowType.Int(32, true)),
            Field.nullable(ERROR, ArrowType.Utf8.INSTANCE)));

    private ArrowResults() {
    }

    /**
     * Writes {@code results} into a new root allocated from {@code allocator}. The caller owns and closes the root;
     * on failure nothing is leaked.
     */
    public static VectorSchemaRoot toRoot(List<Result> results, BufferAllocator allocator) {
        VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
        try {
            root.allocateNew();
            VarCharVector text = (VarCharVector) root.getVector(TEXT);
            ListVector tokenIds = (ListVector) root.getVector(TOKEN_IDS);
            VarCharVector finish = (VarCharVector) root.getVector(FINISH_REASON);
            IntVector promptTokens = (IntVector) root.getVector(PROMPT_TOKENS);
            IntVector completionTokens = (IntVector) root.getVector(COMPLETION_TOKENS);
            VarCharVector error = (VarCharVector) root.getVector(ERROR);
            UnionListWriter ids = tokenIds.getWriter();
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                setString(text, i, r.text());
                ids.setPosition(i);
                ids.startList();
                for (int t : r.tokenIds()) {
                    ids.writeInt(t);
                }
                ids.endList();
                setString(finish, i, r.finishReason().wireName());
                promptTokens.setSafe(i, r.promptTokens());
                completionTokens.setSafe(i, r.completionTokens());
                setString(error, i, r.error());
            }
            root.setRowCount(results.size());
            return root;
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    private static void setString(VarCharVector v, int i, String s) {
        if (s == null) {
            v.setNull(i);
        } else {
            v.setSafe(i, s.getBytes(StandardCharsets.UTF_8));
        }
    }
}

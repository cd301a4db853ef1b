package dev.ember.spark.function;

import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Unevaluable;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.catalyst.analysis.TypeCheckResult;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.List;
import java.util.Objects;

/**
 * The Catalyst expression of one {@code llm_generate} / {@code llm_generate_chat} call. It is never evaluated
 * row by row: the optimizer rule {@code dev.ember.spark.plan.ExtractLlmGenerate} moves it into a batched
 * {@code LlmGenerateExec} operator that streams whole partitions through the executor's engine.
 *
 * <p>Children: the input (a string prompt, or for {@link Kind#CHAT} an {@code array<struct<role, content>>}),
 * then optionally a {@code map<string, string>} of per-row sampling options. The call's other options are
 * already merged with the Spark conf and validated into {@link #settings()} on the driver. Marked
 * non-deterministic so the optimizer never duplicates the call (e.g. by pushing a filter through it) — the
 * results themselves are reproducible (seeded). Immutable.
 */
public final class LlmGenerate extends Expression implements Unevaluable, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** What the input child holds. */
    public enum Kind {
        /** A string prompt. */
        TEXT,
        /** An {@code array<struct<role: string, content: string>>} of chat messages. */
        CHAT
    }

    private final Seq<Expression> children;
    private final EmberSettings settings;
    private final Kind kind;

    /** Constructor arguments equal {@link #productElement} (Catalyst's makeCopy relies on it). */
    public LlmGenerate(Seq<Expression> children, EmberSettings settings, Kind kind) {
        int n = children.size();
        if (n < 1 || n > 2) {
            throw new IllegalArgumentException("llm_generate takes an input and optionally a per-row options map, got "
                    + n + " children");
        }
        this.children = children;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    static LlmGenerate of(List<Expression> children, EmberSettings settings, Kind kind) {
        return new LlmGenerate(CollectionConverters.asScala(children).toSeq(), settings, kind);
    }

    public Expression input() {
        return children.apply(0);
    }

    /** The per-row options map, or null. */
    public Expression rowOptions() {
        return children.size() > 1 ? children.apply(1) : null;
    }

    public EmberSettings settings() {
        return settings;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public Seq<Expression> children() {
        return children;
    }

    @Override
    public Expression withNewChildrenInternal(IndexedSeq<Expression> newChildren) {
        return new LlmGenerate(newChildren.toSeq(), settings, kind);
    }

    @Override
    public TypeCheckResult checkInputDataTypes() {
        DataType in = input().dataType();
        if (kind == Kind.TEXT && !(in instanceof StringType)) {
            return new TypeCheckResult.TypeCheckFailure(prettyName() + ": the prompt must be a string, got "
                    + in.simpleString() + "; cast it to string");
        }
        if (kind == Kind.CHAT && !isMessages(in)) {
            return new TypeCheckResult.TypeCheckFailure(prettyName() + ": messages must be an"
                    + " array<struct<role: string, content: string>>, got " + in.simpleString());
        }
        if (rowOptions() != null) {
            if (!(rowOptions().dataType() instanceof MapType options)) {
                return new TypeCheckResult.TypeCheckFailure(prettyName() + ": the per-row options must be a"
                        + " map<string, string>, got " + rowOptions().dataType().simpleString());
            }
            String problem = SqlFunctions.mapTypeProblem(options);
            if (problem != null) {
                return new TypeCheckResult.TypeCheckFailure(prettyName() + ": the per-row options " + problem);
            }
        }
        return TypeCheckResult.TypeCheckSuccess$.MODULE$;
    }

    private static boolean isMessages(DataType t) {
        if (!(t instanceof ArrayType a) || !(a.elementType() instanceof StructType s)) {
            return false;
        }
        List<String> names = List.of(s.fieldNames());
        return names.contains("role") && names.contains("content")
                && s.apply("role").dataType() instanceof StringType && s.apply("content").dataType() instanceof StringType;
    }

    @Override
    public boolean nullable() {
        return false;
    }

    @Override
    public DataType dataType() {
        return GenerationSchema.structFor(settings);
    }

    @Override
    public boolean deterministic() {
        return false;
    }

    @Override
    public boolean foldable() {
        return false;
    }

    @Override
    public String prettyName() {
        return kind == Kind.CHAT ? "llm_generate_chat" : "llm_generate";
    }

    @Override
    public scala.collection.Iterator<Object> stringArgs() {
        // the settings record is long; the plan string shows the children and the model
        return CollectionConverters.asScala(List.<Object>of(children, settings.model(), kind)).iterator();
    }

    @Override
    public Object eval(InternalRow input) {
        throw notBatched();
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        throw notBatched();
    }

    private UnsupportedOperationException notBatched() {
        return new UnsupportedOperationException(prettyName() + " is evaluated by Ember's batched operator, which"
                + " supports it in select, where and aggregate inputs of a single-input plan node; it was left in "
                + "another place (e.g. a join condition). Compute it in a select first, or check that "
                + "spark.sql.extensions includes dev.ember.spark.EmberExtensions");
    }

    @Override
    public int productArity() {
        return 3;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> children;
            case 1 -> settings;
            case 2 -> kind;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof LlmGenerate;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LlmGenerate g && g.children.equals(children) && g.settings.equals(settings) && g.kind == kind;
    }

    @Override
    public int hashCode() {
        return Objects.hash(children, settings, kind);
    }
}

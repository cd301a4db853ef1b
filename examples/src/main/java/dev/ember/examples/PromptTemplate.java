package dev.ember.examples;

import org.apache.spark.sql.Column;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

/**
 * A prompt template such as {@code "Classify: {text}\nLabel:"}: {@code {name}} is the value of column
 * {@code name} (null as empty), {@code {labels}} the label list; {@code \n} and {@code \t} typed on a command
 * line become a newline and a tab. Compiled into one Spark column expression, so no code runs per row.
 */
final class PromptTemplate {
    private PromptTemplate() {
    }

    /** The prompt column of {@code template} over {@code columns}; an unknown placeholder fails naming it. */
    static Column column(String template, Set<String> columns, List<String> labels) {
        String t = template.replace("\\n", "\n").replace("\\t", "\t");
        List<Column> parts = new ArrayList<>();
        int i = 0;
        while (i < t.length()) {
            int open = t.indexOf('{', i);
            int close = open < 0 ? -1 : t.indexOf('}', open);
            if (open < 0 || close < 0) {
                parts.add(lit(t.substring(i)));
                break;
            }
            if (open > i) {
                parts.add(lit(t.substring(i, open)));
            }
            String name = t.substring(open + 1, close).trim();
            if (name.equals("labels")) {
                parts.add(lit(String.join(", ", labels)));
            } else if (columns.contains(name)) {
                parts.add(coalesce(col(name).cast("string"), lit("")));
            } else {
                throw new UsageException("--template names {" + name + "}, which is not a column of the input"
                        + " (columns: " + String.join(", ", columns) + ") nor {labels}");
            }
            i = close + 1;
        }
        return concat(parts.toArray(new Column[0]));
    }
}

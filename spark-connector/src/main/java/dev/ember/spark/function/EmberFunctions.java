package dev.ember.spark.function;

import dev.ember.engine.Result;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.EmberSettings;
import dev.ember.spark.GenerationSchema;
import dev.ember.spark.executor.EngineLease;
import dev.ember.spark.executor.EngineRegistry;
import dev.ember.spark.executor.RowInput;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import scala.Tuple2;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** TEMPORARY placeholder with engineer A's signatures (one blocking call per row); replaced by the functions branch. */
public final class EmberFunctions {
    private EmberFunctions() {
    }

    public static Column generate(Column prompt) {
        return generate(prompt, Map.of());
    }

    public static Column generate(Column prompt, Map<String, String> options) {
        Map<String, String> conf = new HashMap<>();
        for (Tuple2<String, String> t : SparkSession.active().sparkContext().getConf().getAll()) {
            conf.put(t._1(), t._2());
        }
        EmberSettings settings = EmberSettings.resolve(EmberOptions.merge(conf, options, System.getenv()));
        UDF1<String, Row> f = p -> {
            try (EngineLease lease = EngineRegistry.acquire(settings, null, new Configuration())) {
                RowInput in = RowInput.of(settings, 0, java.util.UUID.randomUUID().toString(), p, null, null);
                Result r = in.error() != null ? Result.error(null, in.error(), 0)
                        : lease.engine().generate(List.of(in.request())).get(0);
                return RowFactory.create(r.text(), r.tokenIds() == null ? null : java.util.Arrays.stream(r.tokenIds()).boxed().toArray(),
                        r.finishReason() == null ? null : r.finishReason().wireName(), r.promptTokens(), r.completionTokens(), r.error());
            }
        };
        return functions.udf(f, GenerationSchema.STRUCT).asNondeterministic().apply(prompt);
    }
}

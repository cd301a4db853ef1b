package dev.ember.examples;

import org.apache.spark.sql.SparkSession;

/** One local[2] session for all example tests of this JVM (a session costs seconds to start); never stopped. */
final class TestSpark {
    private TestSpark() {
    }

    static synchronized SparkSession get() {
        return SparkSession.builder().master("local[2]").appName("ember-examples-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.extensions", ExampleSpark.EXTENSIONS)
                // a small CPU KV cache (the default is 512 MiB of heap per engine)
                .config("spark.ember.cpu_kv_cache_mb", "32")
                .getOrCreate();
    }
}

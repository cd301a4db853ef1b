package dev.ember.examples;

import org.apache.spark.sql.SparkSession;

/** One local[2] session for all example tests of this JVM (a session costs seconds to start). */
final class TestSpark {
    private TestSpark() {
    }

    static synchronized SparkSession get() {
        return SparkSession.builder().master("local[2]").appName("ember-examples-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.extensions", ExampleSpark.EXTENSIONS)
                .getOrCreate();
    }
}

package dev.ember.examples;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of an example job. Under spark-submit the submitted conf wins; run with plain {@code java}
 * (no {@code spark.master}) the job runs on {@code local[2]}. Either way Ember's SQL extension (the
 * {@code llm_generate} function and the planner rule that batches generation) and its plugin (engines closed at
 * executor shutdown) are on unless the conf names others.
 */
final class ExampleSpark {
    static final String EXTENSIONS = "dev.ember.spark.EmberExtensions";
    static final String PLUGIN = "dev.ember.spark.executor.EmberPlugin";

    private ExampleSpark() {
    }

    static SparkSession session(String appName) {
        SparkConf conf = new SparkConf(); // spark.* system properties: what spark-submit passes
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        if (!conf.contains("spark.master")) {
            b.master("local[2]").config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2");
        }
        if (!conf.contains("spark.sql.extensions")) {
            b.config("spark.sql.extensions", EXTENSIONS);
        }
        if (!conf.contains("spark.plugins")) {
            b.config("spark.plugins", PLUGIN);
        }
        return b.getOrCreate();
    }
}

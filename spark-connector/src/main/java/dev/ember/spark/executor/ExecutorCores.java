package dev.ember.spark.executor;

import dev.ember.ConfigException;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CPU backend's thread count on a Spark executor when {@code num_threads} is left at 0: the cores Spark gives
 * the executor's tasks. Every task of an executor shares one engine per option set ({@link EngineRegistry}), and a
 * task's own thread only waits on its requests, so the engine's pool gets all of those cores, never one pool per
 * task: {@code (spark.executor.cores / spark.task.cpus) * spark.task.cpus}, the cores of the task slots (a remainder
 * Spark never schedules is left alone). The executor's cores come from the master for {@code local[N]},
 * {@code local[N,F]}, {@code local[*]} and {@code local-cluster[n,c,m]} (local mode ignores
 * {@code spark.executor.cores}), else from {@code spark.executor.cores}; without it, Spark's own default: 1 on YARN
 * and Kubernetes, and in standalone mode (an executor per worker with all its cores) the JVM's available
 * processors. The result never exceeds the available
 * processors, which container limits cap, so {@code local[16]} on a 2-core laptop runs 2 threads.
 *
 * <p>Stateless and thread-safe.
 */
public final class ExecutorCores {
    private static final Pattern LOCAL = Pattern.compile("local\\[\\s*(\\*|\\d+)\\s*(?:,\\s*\\d+\\s*)?]");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,.*]");

    private ExecutorCores() {
    }

    /**
     * The engine threads for this JVM's executor, from {@link SparkEnv}'s configuration; 0 (the engine's own
     * default, all available processors) outside Spark.
     */
    public static int current() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return 0;
        }
        SparkConf conf = env.conf();
        Map<String, String> values = new HashMap<>();
        for (String key : new String[] {"spark.master", "spark.executor.cores", "spark.task.cpus"}) {
            if (conf.contains(key)) {
                values.put(key, conf.get(key));
            }
        }
        return threads(values, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The engine threads for an executor with these Spark settings on a JVM that sees {@code availableProcessors}.
     *
     * @param conf Spark settings; only {@code spark.master}, {@code spark.executor.cores} and {@code spark.task.cpus}
     *             are read
     * @return at least 1 and at most {@code availableProcessors}
     */
    static int threads(Map<String, String> conf, int availableProcessors) {
        int available = Math.max(1, availableProcessors);
        int cores = executorCores(conf, available);
        int taskCpus = positive(conf, "spark.task.cpus", 1);
        int slotCores = cores >= taskCpus ? cores / taskCpus * taskCpus : cores;
        return Math.max(1, Math.min(available, slotCores));
    }

    private static int executorCores(Map<String, String> conf, int available) {
        String master = conf.getOrDefault("spark.master", "").trim();
        if (master.equals("local")) {
            return 1;
        }
        Matcher local = LOCAL.matcher(master);
        if (local.matches()) {
            return local.group(1).equals("*") ? available : Math.max(1, Integer.parseInt(local.group(1)));
        }
        Matcher cluster = LOCAL_CLUSTER.matcher(master);
        if (cluster.matches()) {
            return Math.max(1, Integer.parseInt(cluster.group(1)));
        }
        // Spark's own default where the setting is absent: 1 core on YARN and Kubernetes, a whole worker in standalone
        boolean oneByDefault = master.startsWith("yarn") || master.startsWith("k8s://");
        return positive(conf, "spark.executor.cores", oneByDefault ? 1 : available);
    }

    private static int positive(Map<String, String> conf, String key, int absent) {
        String value = conf.get(key);
        if (value == null || value.isBlank()) {
            return absent;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ConfigException.invalid(key, value, "a positive integer (Spark's own setting; Ember sizes the CPU "
                + "backend's threads from it when num_threads is 0)");
    }
}

package dev.ember.spark.executor;

import dev.ember.backend.Backend;
import dev.ember.engine.Engine;
import dev.ember.api.EngineConfig;
import dev.ember.spark.EmberSettings;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The executor JVM's engines: one per {@link EngineKey} (model, engine options, GPU), created lazily by the first
 * task that needs it and shared by every concurrent task of the executor, so their requests meet in one
 * continuous batch. {@link #acquire} hands out reference-counted {@link EngineLease}s; an engine stays loaded
 * when its count drops to zero (the next task reuses it) and is closed by {@link #closeAll()}, which
 * {@link EmberPlugin} calls at executor shutdown (a JVM shutdown hook covers executors without the plugin).
 *
 * <p>Several engines, one GPU: before a new engine is created on a GPU, the idle engines (no lease) of other option
 * sets on that GPU are closed, so an engine a query no longer uses never holds the memory the new one needs; each
 * closing is logged, naming the engine. Engines still leased stay, and the new engine sizes its KV cache from the
 * memory they leave (the CUDA backend counts its own allocations against gpu_memory_utilization and never takes
 * more than is free).
 *
 * <p>This is the connector's one piece of mutable static state. Thread-safe: concurrent first tasks of one key
 * load the model once (the others wait for that load, not for the registry's lock, so tasks of other engines and
 * lease releases go on meanwhile); a failed load is not cached (the next task retries and gets the same clear
 * error). An engine whose step loop failed is evicted and closed (its memory
 * freed) when its last lease is released or the next task asks for it, so one fault never poisons the executor.
 */
public final class EngineRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(EngineRegistry.class);
    private static final Map<EngineKey, Entry> ENGINES = new LinkedHashMap<>();
    /** Engines being loaded, by key: a second task for the same key waits for the first's load. Guarded by the class. */
    private static final Map<EngineKey, CompletableFuture<Void>> LOADING = new HashMap<>();
    /** One lock per GPU ordinal, held while an engine is loaded onto that GPU. */
    private static final Map<Integer, Object> GPU_LOADS = new ConcurrentHashMap<>();
    private static boolean hookInstalled;

    private EngineRegistry() {
    }

    static final class Entry {
        final Engine engine;
        int leases;
        long created;

        Entry(Engine engine) {
            this.engine = engine;
            this.created = System.nanoTime();
        }
    }

    /**
     * A lease on the engine for {@code settings} on {@code gpuOrdinal} (null on the CPU), creating the engine on
     * first use: the model is localized ({@link ModelCache}) and loaded. Close the lease when the task is done.
     */
    public static EngineLease acquire(EmberSettings settings, Integer gpuOrdinal, Configuration hadoopConf) {
        return acquire(settings, gpuOrdinal, hadoopConf, UnaryOperator.identity());
    }

    /** As {@link #acquire(EmberSettings, Integer, Configuration)}; a new engine's backend is wrapped (tests' faults). */
    static EngineLease acquire(EmberSettings settings, Integer gpuOrdinal, Configuration hadoopConf,
                               UnaryOperator<Backend> wrap) {
        EngineKey key = new EngineKey(modelIdentity(settings), settings.engineOptions(), gpuOrdinal);
        while (true) {
            CompletableFuture<Void> load;
            boolean mine = false;
            synchronized (EngineRegistry.class) {
                Entry e = ENGINES.get(key);
                if (e != null && e.engine.failure() != null) {
                    // a dead engine would fail this task and every later one with a stale error: replace it
                    evict(key, e);
                    e = null;
                }
                if (e != null) {
                    e.leases++;
                    return new EngineLease(key, e.engine);
                }
                load = LOADING.get(key);
                if (load == null) {
                    load = new CompletableFuture<>();
                    LOADING.put(key, load);
                    mine = true;
                }
            }
            if (!mine) {
                // another task loads this engine: wait for it (the future only says it ended; a failed load is not
                // cached, so then this task tries)
                load.join();
                continue;
            }
            try {
                return load(key, settings, gpuOrdinal, hadoopConf, wrap);
            } finally {
                synchronized (EngineRegistry.class) {
                    LOADING.remove(key);
                }
                load.complete(null);
            }
        }
    }

    /**
     * Localizes and loads the engine of {@code key}, then registers it with this task's lease. Runs outside the
     * registry's lock, so a slow load (a large checkpoint, a copy from HDFS) blocks neither tasks of other engines
     * nor lease releases; only loads onto one GPU are serialized (each sizes its KV cache from the memory the
     * engines before it left).
     */
    private static EngineLease load(EngineKey key, EmberSettings settings, Integer gpuOrdinal, Configuration hadoopConf,
                                    UnaryOperator<Backend> wrap) {
        Path local = ModelCache.localize(settings.model(), settings.localCacheDir(), hadoopConf);
        Object gpuLoad = gpuOrdinal == null ? new Object() : GPU_LOADS.computeIfAbsent(gpuOrdinal, g -> new Object());
        synchronized (gpuLoad) {
            synchronized (EngineRegistry.class) {
                makeRoomOnGpu(key);
            }
            Engine engine = Engine.create(withExecutorThreads(settings.engineConfig(local, gpuOrdinal)), wrap);
            synchronized (EngineRegistry.class) {
                Entry e = new Entry(engine);
                ENGINES.put(key, e);
                installShutdownHook();
                LOG.info("Ember engine {} created; {} engine(s) resident in this executor", key.describe(),
                        ENGINES.size());
                e.leases++;
                return new EngineLease(key, e.engine);
            }
        }
    }

    /**
     * A CPU engine left at {@code num_threads = 0} gets the executor's task cores ({@link ExecutorCores}) rather
     * than every processor of the host, which executors sharing a host (and {@code local[N]}) would oversubscribe;
     * an explicit {@code num_threads} wins. The key stays the given options: the derived count is the same for every
     * task of this JVM.
     */
    static EngineConfig withExecutorThreads(EngineConfig config) {
        if (!"cpu".equals(config.device()) || config.numThreads() > 0) {
            return config;
        }
        int threads = ExecutorCores.current();
        return threads > 0 ? config.toBuilder().numThreads(threads).build() : config;
    }

    /**
     * Closes the idle engines of other keys on {@code incoming}'s GPU (none on the CPU, where engines do not
     * compete for device memory), logging each. Caller holds the registry's lock.
     */
    private static void makeRoomOnGpu(EngineKey incoming) {
        if (incoming.gpuOrdinal() == null) {
            return;
        }
        List<String> busy = new ArrayList<>();
        for (var it = ENGINES.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<EngineKey, Entry> r = it.next();
            if (!incoming.gpuOrdinal().equals(r.getKey().gpuOrdinal())) {
                continue;
            }
            if (r.getValue().leases == 0) {
                it.remove();
                LOG.info("Ember closes idle engine {} to free GPU {} for engine {}", r.getKey().describe(),
                        incoming.gpuOrdinal(), incoming.describe());
                closeQuietly(r.getKey(), r.getValue().engine);
            } else {
                busy.add(r.getKey().describe());
            }
        }
        if (!busy.isEmpty()) {
            LOG.info("Ember engine {} shares GPU {} with engine(s) in use: {}; its KV cache gets the memory they leave",
                    incoming.describe(), incoming.gpuOrdinal(), String.join("; ", busy));
        }
    }

    private static void closeQuietly(EngineKey key, Engine engine) {
        try {
            engine.close();
        } catch (RuntimeException ex) {
            LOG.warn("closing the Ember engine {} failed", key.describe(), ex);
        }
    }

    static void release(EngineKey key) {
        synchronized (EngineRegistry.class) {
            Entry e = ENGINES.get(key);
            if (e != null && e.leases > 0) {
                e.leases--;
            }
            if (e != null && e.leases == 0 && e.engine.failure() != null) {
                evict(key, e); // frees its (GPU) memory now rather than when the next task comes
            }
        }
    }

    /**
     * The model as the key knows it: a local directory by its path; a checkpoint that is copied or written first
     * ('demo', a Hadoop URI) together with the cache it lands in, since two caches hold two copies (an engine must
     * never outlive the files it reads lazily, such as tokenizer.json for guided decoding).
     */
    static String modelIdentity(EmberSettings settings) {
        String model = settings.model();
        try {
            if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(model))) {
                return model;
            }
        } catch (java.nio.file.InvalidPathException e) {
            // a URI that is no local path: copied into the cache
        }
        return model + " (cache " + settings.localCacheDir() + ")";
    }

    /** Removes a failed engine and closes it; tasks still leasing it get errors naming the original failure. */
    private static void evict(EngineKey key, Entry e) {
        ENGINES.remove(key);
        LOG.warn("Ember engine {} failed and is replaced ({} tasks still held it): {}", key.describe(), e.leases,
                e.engine.failure(), e.engine.failure());
        try {
            e.engine.close();
        } catch (RuntimeException ex) {
            LOG.warn("closing the failed Ember engine {} failed", key.describe(), ex);
        }
    }

    /** The engines this JVM holds now (for tests and metrics). */
    public static synchronized Map<EngineKey, Engine> engines() {
        Map<EngineKey, Engine> out = new LinkedHashMap<>();
        ENGINES.forEach((k, v) -> out.put(k, v.engine));
        return out;
    }

    /** Open leases on the engine of {@code key}; 0 when it is idle or absent. */
    public static synchronized int leases(EngineKey key) {
        Entry e = ENGINES.get(key);
        return e == null ? 0 : e.leases;
    }

    /** Closes every engine (executor shutdown). Leases still open see their engine closed. Idempotent. */
    public static void closeAll() {
        List<Map.Entry<EngineKey, Entry>> all;
        synchronized (EngineRegistry.class) {
            all = new ArrayList<>(ENGINES.entrySet());
            ENGINES.clear();
        }
        for (Map.Entry<EngineKey, Entry> e : all) {
            closeQuietly(e.getKey(), e.getValue().engine);
        }
    }

    private static void installShutdownHook() {
        if (!hookInstalled) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(new Thread(EngineRegistry::closeAll, "ember-engine-shutdown"));
        }
    }
}

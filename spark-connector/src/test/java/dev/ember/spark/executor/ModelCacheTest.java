package dev.ember.spark.executor;

import dev.ember.ModelFormatException;
import dev.ember.demo.DemoModel;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCacheTest {
    private final Configuration hadoop = new Configuration(false);

    @Test
    void aLocalDirectoryIsUsedInPlace(@TempDir Path dir) {
        Path model = DemoModel.write(dir.resolve("m"));
        assertEquals(model, ModelCache.localize(model.toString(), dir.resolve("cache"), hadoop));
        assertFalse(Files.exists(dir.resolve("cache")), "nothing is copied for a local path");
        assertTrue(ModelCache.isLocalPath(model.toString()));
        assertFalse(ModelCache.isLocalPath("hdfs://nn/models/x"));
        assertFalse(ModelCache.isLocalPath("demo"));
    }

    @Test
    void aMissingLocalDirectoryFailsClearly(@TempDir Path dir) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelCache.localize(dir.resolve("nope").toString(), dir, hadoop));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aHadoopUriIsCopiedOnceEvenWhenManyThreadsAskAtOnce(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("remote model"));
        String uri = model.toUri().toString(); // file:///.../remote%20model/
        Path cache = dir.resolve("cache");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(() -> ModelCache.localize(uri, cache, hadoop)));
            }
            Set<Path> dirs = new HashSet<>();
            for (Future<Path> f : futures) {
                dirs.add(f.get());
            }
            assertEquals(1, dirs.size(), "every thread gets the same copy");
            Path local = dirs.iterator().next();
            assertTrue(local.startsWith(cache));
            assertTrue(local.getFileName().toString().startsWith("remote model-"), "named after the model: " + local);
            for (String name : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                assertArrayEquals(Files.readAllBytes(model.resolve(name)), Files.readAllBytes(local.resolve(name)), name);
            }
            try (var entries = Files.list(cache)) {
                assertEquals(2, entries.count(), "one copy and its lock file");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anInterruptedCopyIsRedone(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("m"));
        Path cache = dir.resolve("cache");
        Path local = ModelCache.localize(model.toUri().toString(), cache, hadoop);
        Files.delete(local.resolve(".complete"));
        Files.writeString(local.resolve("config.json"), "{truncated");
        Path again = ModelCache.localize(model.toUri().toString(), cache, hadoop);
        assertEquals(local, again);
        assertArrayEquals(Files.readAllBytes(model.resolve("config.json")), Files.readAllBytes(again.resolve("config.json")));
    }

    @Test
    void aMissingRemoteModelFailsNamingIt(@TempDir Path dir) {
        String uri = dir.resolve("absent").toUri().toString();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelCache.localize(uri, dir, hadoop));
        assertTrue(e.getMessage().contains(uri), e.getMessage());
    }

    @Test
    void theDemoModelIsWrittenIntoTheCache(@TempDir Path dir) {
        Path local = ModelCache.localize("demo", dir, hadoop);
        assertTrue(Files.isRegularFile(local.resolve("config.json")));
        assertTrue(Files.isRegularFile(local.resolve(".complete")));
    }

    /** A copy of one model in progress does not hold back the copy of another in the same executor. */
    @Test
    void twoModelsAreCopiedAtOnce(@TempDir Path dir) throws Exception {
        Path a = DemoModel.write(dir.resolve("a"));
        Path b = DemoModel.write(dir.resolve("b"));
        Files.writeString(b.resolve("extra.txt"), "b differs from a");
        Path cache = dir.resolve("cache");
        Configuration conf = HookedLocalFileSystem.conf();
        CountDownLatch aCopying = new CountDownLatch(1);
        CountDownLatch bDone = new CountDownLatch(1);
        HookedLocalFileSystem.beforeOpen = file -> {
            if (file.toString().contains("/a/") && file.getName().equals("model.safetensors")) {
                aCopying.countDown();
                try {
                    // with one lock for every copy, b waits for a here and this times out
                    if (!bDone.await(20, TimeUnit.SECONDS)) {
                        throw new IOException("the copy of b did not end while a was being copied");
                    }
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Path> localA = pool.submit(() -> ModelCache.localize(a.toUri().toString(), cache, conf));
            assertTrue(aCopying.await(20, TimeUnit.SECONDS), "the copy of a did not start");
            Path localB = ModelCache.localize(b.toUri().toString(), cache, conf);
            bDone.countDown();
            assertEquals("b differs from a", Files.readString(localB.resolve("extra.txt")));
            Path copiedA = localA.get(30, TimeUnit.SECONDS);
            assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")),
                    Files.readAllBytes(copiedA.resolve("model.safetensors")));
        } finally {
            bDone.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aCopyIsNotTrustedUntilItEndsEvenWhenTheSourceHoldsACompleteMarker(@TempDir Path dir) throws Exception {
        // a localized copy put back on the file system (hdfs dfs -put <cache>/m-... /models/m) carries the marker
        Path model = DemoModel.write(dir.resolve("m"));
        Files.writeString(model.resolve(".complete"), "ok");
        Path cache = dir.resolve("cache");
        Configuration conf = HookedLocalFileSystem.conf();
        Set<Path> trustedDuringCopy = new HashSet<>();
        HookedLocalFileSystem.beforeOpen = file -> {
            if (file.getName().equals("model.safetensors")) { // what another executor's check sees mid-copy
                try (var markers = Files.find(cache, 2, (p, a) -> p.getFileName().toString().equals(".complete"))) {
                    markers.forEach(m -> trustedDuringCopy.add(m.getParent()));
                }
            }
        };
        Path local = ModelCache.localize(model.toUri().toString(), cache, conf);
        assertFalse(trustedDuringCopy.contains(local),
                "another executor would have used " + local + " while its weights were being copied");
        assertArrayEquals(Files.readAllBytes(model.resolve("model.safetensors")),
                Files.readAllBytes(local.resolve("model.safetensors")));
    }

    @Test
    void aModelReplacedAtTheSourceWhileItIsCopiedIsNotCachedHalfOldHalfNew(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("m"));
        Path cache = dir.resolve("cache");
        Configuration conf = HookedLocalFileSystem.conf();
        byte[] newTokenizer = (Files.readString(model.resolve("tokenizer.json")) + " ").getBytes();
        HookedLocalFileSystem.beforeOpen = file -> {
            if (file.getName().equals("config.json")) { // an upload replaces the files one by one during the copy
                Files.write(model.resolve("tokenizer.json"), newTokenizer);
            }
        };
        String uri = model.toUri().toString();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ModelCache.localize(uri, cache, conf));
        assertTrue(e.getCause().getMessage().contains("changed at the source while it was copied"), e.getCause().getMessage());

        HookedLocalFileSystem.beforeOpen = file -> { };
        Path local = ModelCache.localize(uri, cache, conf);
        for (String name : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            assertArrayEquals(Files.readAllBytes(model.resolve(name)), Files.readAllBytes(local.resolve(name)), name);
        }
        try (var markers = Files.find(cache, 2, (p, a) -> p.getFileName().toString().equals(".complete"))) {
            assertEquals(List.of(local), markers.map(Path::getParent).toList(), "only the new version's copy is usable");
        }
    }

    @Test
    void aModelLargerThanTheCacheDiskFailsBeforeCopyingNamingTheDirectoryAndTheBytes(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("m"));
        Path cache = Files.createDirectories(dir.resolve("cache"));
        long usable = Files.getFileStore(cache).getUsableSpace();
        long huge = usable + (64L << 30); // sparse: no disk is used by the source
        try (RandomAccessFile f = new RandomAccessFile(model.resolve("huge.bin").toFile(), "rw")) {
            f.setLength(huge);
        } catch (IOException e) {
            Assumptions.abort("this file system has no sparse files of " + huge + " bytes: " + e);
        }
        long needed = 0;
        try (var files = Files.list(model)) {
            for (Path p : files.toList()) {
                needed += Files.size(p);
            }
        }
        Configuration conf = HookedLocalFileSystem.conf();
        HookedLocalFileSystem.beforeOpen = file -> {
            if (file.getName().equals("huge.bin")) { // copying it would fill this machine's disk
                throw new IOException("test: the copy of huge.bin began");
            }
        };
        String uri = model.toUri().toString();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ModelCache.localize(uri, cache, conf));
        String message = e.getCause().getMessage();
        assertTrue(message.contains(cache.toString()) && message.contains(Long.toString(needed))
                && message.contains("cache_dir"), message);
        try (var entries = Files.list(cache)) {
            assertEquals(1, entries.count(), "only the lock file: nothing was copied");
        }
    }

    @Test
    void aCopyThatFailsMidwayLeavesNoPartialFiles(@TempDir Path dir) throws Exception {
        Path model = DemoModel.write(dir.resolve("m"));
        Path cache = dir.resolve("cache");
        Configuration conf = HookedLocalFileSystem.conf();
        HookedLocalFileSystem.beforeOpen = file -> {
            if (file.getName().equals("model.safetensors")) {
                throw new IOException("No space left on device");
            }
        };
        String uri = model.toUri().toString();
        assertThrows(UncheckedIOException.class, () -> ModelCache.localize(uri, cache, conf));
        try (var entries = Files.list(cache)) {
            assertEquals(List.of(), entries.filter(p -> !p.toString().endsWith(".lock")).toList(),
                    "the files copied before the failure are removed, not left filling the disk");
        }
        HookedLocalFileSystem.beforeOpen = file -> { };
        Path local = ModelCache.localize(uri, cache, conf);
        assertArrayEquals(Files.readAllBytes(model.resolve("model.safetensors")),
                Files.readAllBytes(local.resolve("model.safetensors")));
    }

    @Test
    void aLocalDirectoryWhoseNameIsNoValidUriIsUsedInPlace(@TempDir Path dir) {
        Path model = DemoModel.write(dir.resolve("qwen [int8] 100%"));
        assertTrue(ModelCache.isLocalPath(model.toString()));
        assertEquals(model, ModelCache.localize(model.toString(), dir.resolve("cache"), hadoop));
        ModelCache.checkLocal(model.toString());
    }
}

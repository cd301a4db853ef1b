package dev.ember.backend.cuda;

import dev.ember.CudaException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels' CUDA C sources as the jar carries them (engine/src/main/cuda, copied as resources under
 * {@value #DIR}): the one translation unit {@value #MAIN} and every file it includes with {@code #include "..."},
 * found by following the includes (class-path resources cannot be listed). Immutable.
 *
 * @param files file name to source text, {@value #MAIN} first
 */
record KernelSources(Map<String, String> files) {
    static final String DIR = "/dev/ember/backend/cuda/kernels/";
    static final String MAIN = "ember_kernels.cu";
    private static final Pattern LOCAL_INCLUDE = Pattern.compile("^\\s*#\\s*include\\s+\"([^\"]+)\"", Pattern.MULTILINE);

    KernelSources {
        files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
    }

    /** Whether this jar carries the sources. */
    static boolean present() {
        return KernelSources.class.getResource(DIR + MAIN) != null;
    }

    /** The sources from the class path; fails naming a missing file. */
    static KernelSources load() {
        Map<String, String> files = new LinkedHashMap<>();
        ArrayDeque<String> todo = new ArrayDeque<>();
        todo.add(MAIN);
        while (!todo.isEmpty()) {
            String name = todo.removeFirst();
            if (files.containsKey(name)) {
                continue;
            }
            String text = read(name);
            files.put(name, text);
            Matcher m = LOCAL_INCLUDE.matcher(text);
            while (m.find()) {
                todo.addLast(m.group(1));
            }
        }
        return new KernelSources(files);
    }

    private static String read(String name) {
        try (InputStream in = KernelSources.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new CudaException("this Ember build carries no CUDA kernel source " + DIR + name
                        + "; the engine jar is incomplete (rebuild it)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CudaException("cannot read the CUDA kernel source " + DIR + name + ": " + e.getMessage(), e);
        }
    }

    String main() {
        return files.get(MAIN);
    }

    /** SHA-256 over every file's name and text, in hex: part of the compiled kernels' cache key. */
    String sha256() {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> e : files.entrySet()) {
                d.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
                d.update(e.getValue().getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}

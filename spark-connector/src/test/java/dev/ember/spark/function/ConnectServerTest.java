package dev.ember.spark.function;

import dev.ember.api.Result;
import dev.ember.spark.EmberOptions;
import dev.ember.spark.SparkTestSupport;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark Connect end to end: a Connect server started in this JVM on a local[2] session built without
 * {@code spark.sql.extensions} (Ember's jar installs its extensions through META-INF/services), and a Connect client
 * in a child JVM ({@link ConnectClientMain}) that calls {@code llm_generate} in SQL and
 * {@code EmberFunctions.generate} on a DataFrame and reads with {@code format("llm")}. All three must give the engine's own rows, an empty prompt an error
 * row, a misspelt option an error that reaches the client with the suggestion, and the one DataFrame call SQL
 * cannot carry (call options and a per-row map) an error saying what to do.
 *
 * <p>The client runs in another JVM because its jar cannot share a class path with classic Spark SQL (it carries
 * spark-sql-api's classes built against relocated Arrow) nor with the server (both carry the Connect protocol classes,
 * against different relocations of protobuf). Its class path is this JVM's without Spark's classic modules, plus
 * the client jar and its shims: what a Connect application with Ember's jar has. Skipped where the build has no Connect
 * artifacts (the spark-4.0 / spark-4.1 profiles).
 */
@EnabledIfSystemProperty(named = "ember.connect.clientJars", matches = ".*\\.jar,.*\\.jar",
        disabledReason = "no Spark Connect artifacts in this build (the spark-connect profile of spark-connector is off)")
class ConnectServerTest {
    private static final String SERVICE = "org.apache.spark.sql.connect.service.SparkConnectService";
    /** Spark's classic modules and the Connect server: on the server's class path, not on a Connect client's. */
    private static final Pattern NOT_ON_CLIENT = Pattern.compile(
            "spark-(core|sql|sql-api|catalyst|connect|pipelines|mllib|mllib-local|graphx|streaming|kvstore|launcher"
                    + "|network-common|network-shuffle|repl|avro)_2\\.13-[^/]*\\.jar");

    @TempDir
    static Path dir;
    private static org.apache.spark.sql.SparkSession spark;
    private static Map<String, String> options;
    private static int port;
    /** The client jar and its shims, off this JVM's class path. */
    private static List<String> clientJars;

    @BeforeAll
    static void startServer() throws Exception {
        String jars = System.getProperty("ember.connect.clientJars", "");
        clientJars = Arrays.stream(jars.split(",")).filter(j -> j.endsWith(".jar") && new File(j).isFile()).toList();
        assertEquals(2, clientJars.size(), "the Connect client jar and its shims: " + jars);
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        options = SparkTestSupport.baseOptions(dir.resolve("cache"));
        org.apache.spark.sql.SparkSession.Builder b = org.apache.spark.sql.SparkSession.builder()
                .master("local[2]").appName("ember-connect")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.connect.grpc.binding.address", "127.0.0.1")
                .config("spark.connect.grpc.binding.port", String.valueOf(port));
        options.forEach((k, v) -> b.config(EmberOptions.SPARK_CONF_PREFIX + k, v));
        spark = b.getOrCreate();
        // what start-connect-server.sh runs; by reflection, since the class is absent from the 4.0 / 4.1 builds
        // and this test must compile there
        Class.forName(SERVICE).getMethod("start", SparkContext.class).invoke(null, spark.sparkContext());
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (spark != null) {
            Class.forName(SERVICE).getMethod("stop", scala.Option.class, scala.Option.class)
                    .invoke(null, scala.Option.empty(), scala.Option.empty());
            spark.stop();
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void llmGenerateAndTheDataFrameApiFromAConnectClient() throws Exception {
        assertEquals("", spark.conf().get("spark.sql.extensions", ""), "the server sets no spark.sql.extensions");
        List<String> prompts = new ArrayList<>(SparkTestSupport.prompts(3));
        prompts.add(""); // an empty prompt: an error row, not a failed query
        List<String> out = runClient(prompts);

        assertTrue(out.contains("SESSION\torg.apache.spark.sql.connect.SparkSession"), "a Connect session: " + out);
        Map<String, String> all = new HashMap<>(options);
        all.put("max_tokens", "4");
        List<Result> expected = SparkTestSupport.expected(all, prompts.subList(0, 3));
        for (String query : List.of("sql", "dataframe", "format")) {
            List<String[]> rows = out.stream().filter(l -> l.startsWith("ROW\t" + query + "\t"))
                    .map(l -> l.split("\t", -1)).toList();
            assertEquals(4, rows.size(), query + ": one line per row: " + out);
            for (int i = 0; i < 3; i++) {
                String[] r = rows.get(i);
                String where = query + " row " + i;
                assertEquals(String.valueOf(i), r[2], where);
                Result e = expected.get(i);
                assertTrue(!e.text().isEmpty(), where + ": the engine generates text");
                assertEquals(e.text(), decode(r[3]), where + ": text");
                assertEquals(Arrays.stream(e.tokenIds()).mapToObj(String::valueOf).collect(Collectors.joining(",")),
                        r[4], where + ": token ids");
                assertEquals(e.finishReason().wireName(), r[5], where + ": finish reason");
                assertEquals("4", r[6], where + ": completion tokens (max_tokens 4 from the call's map)");
                assertEquals("", r[7], where + ": no error");
            }
            String[] bad = rows.get(3);
            assertEquals("error", bad[5], query + ": the empty prompt is an error row");
            assertTrue(decode(bad[7]).contains("empty"), query + ": the error says why: " + decode(bad[7]));
        }
        String bad = out.stream().filter(l -> l.startsWith("ERROR\tbad\t")).findFirst()
                .map(l -> decode(l.substring("ERROR\tbad\t".length()))).orElse("no error line: " + out);
        assertTrue(bad.contains("unknown Ember option 'maxTokens'") && bad.contains("did you mean 'max_tokens'?"), bad);
        String both = out.stream().filter(l -> l.startsWith("ERROR\tboth\t")).findFirst()
                .map(l -> decode(l.substring("ERROR\tboth\t".length()))).orElse("no error line: " + out);
        assertTrue(both.contains("either call options or a per-row options map"), both);
    }

    /** Runs {@link ConnectClientMain} against the server; its ROW / ERROR / SESSION lines, failing with its log. */
    private static List<String> runClient(List<String> prompts) throws IOException, InterruptedException {
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!NOT_ON_CLIENT.matcher(new File(entry).getName()).matches()) {
                classPath.add(entry);
            }
        }
        classPath.addAll(clientJars);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the module options this JVM runs with (Arrow, which the client uses relocated, needs java.nio opened)
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-XX:+IgnoreUnrecognizedVMOptions")) {
                command.add(arg);
            }
        }
        Path jsonl = dir.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            lines.add("{\"id\": " + i + ", \"prompt\": \"" + prompts.get(i) + "\"}"); // plain words, no escapes needed
        }
        Files.write(jsonl, lines);
        command.addAll(List.of("-Xmx512m", "-cp", String.join(File.pathSeparator, classPath),
                ConnectClientMain.class.getName(), "sc://127.0.0.1:" + port, jsonl.toString()));
        command.addAll(prompts);
        Path log = dir.resolve("client.log");
        Path output = dir.resolve("client.out");
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).redirectOutput(output.toFile()).start();
        boolean exited = p.waitFor(2, TimeUnit.MINUTES);
        if (!exited) {
            p.destroyForcibly();
        }
        assertTrue(exited && p.exitValue() == 0, "the Connect client failed (exit " + (exited ? p.exitValue() : "none")
                + "): " + Files.readString(output) + "\n" + tail(log));
        return Files.readAllLines(output).stream().filter(l -> l.startsWith("ROW\t") || l.startsWith("ERROR\t")
                || l.startsWith("SESSION\t")).toList();
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
}

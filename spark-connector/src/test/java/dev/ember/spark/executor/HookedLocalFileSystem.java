package dev.ember.spark.executor;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The {@code file:} FileSystem standing in for a remote store in {@link ModelCacheTest}: it lists a directory in
 * name order, as HDFS does (the local file system's order is whatever the directory gives), and runs the test's
 * {@link #beforeOpen} action before each file is opened, so a test can look at the cache, change the source, or
 * fail the read at a chosen point of a copy, without timing.
 */
public class HookedLocalFileSystem extends LocalFileSystem {
    /** What happens before a source file is opened; set by a test, reset by {@link #conf()}. */
    static volatile Action beforeOpen = path -> { };

    interface Action {
        void run(Path path) throws IOException;
    }

    /** A Hadoop configuration whose {@code file:} scheme is this FileSystem (not cached, so every call sees it). */
    static Configuration conf() {
        beforeOpen = path -> { };
        Configuration conf = new Configuration(false);
        conf.set("fs.file.impl", HookedLocalFileSystem.class.getName());
        conf.setBoolean("fs.file.impl.disable.cache", true);
        return conf;
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        beforeOpen.run(f);
        return super.open(f, bufferSize);
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] listing = super.listStatus(f);
        Arrays.sort(listing, Comparator.comparing(st -> st.getPath().getName()));
        return listing;
    }
}

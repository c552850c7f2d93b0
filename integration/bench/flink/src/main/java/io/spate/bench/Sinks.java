package io.spate.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/** The benchmark's sinks: plain part files, and a count-and-sum. */
final class Sinks {
    private Sinks() {}

    /**
     * Writes each subtask's lines to DIR/part-SUBTASK, not transactionally, as
     * Spate's WriteText does without checkpointing.
     */
    static final class Lines implements Sink<String> {
        private final String dir;

        Lines(String dir) {
            this.dir = dir;
        }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext ctx) throws IOException {
            Path d = Paths.get(dir);
            Files.createDirectories(d);
            BufferedWriter w = Files.newBufferedWriter(
                    d.resolve("part-" + ctx.getTaskInfo().getIndexOfThisSubtask()), StandardCharsets.UTF_8);
            return new SinkWriter<>() {
                @Override
                public void write(String line, Context c) throws IOException {
                    w.write(line);
                    w.write('\n');
                }

                @Override
                public void flush(boolean endOfInput) throws IOException {
                    w.flush();
                }

                @Override
                public void close() throws IOException {
                    w.close();
                }
            };
        }
    }

    // The MiniCluster runs every subtask in this JVM, so the totals can be
    // printed after execute() returns.
    static final AtomicLong COUNT = new AtomicLong();
    static final AtomicLong SUM = new AtomicLong();

    /** Counts and sums the records, adding each subtask's totals at the end. */
    static final class CountSum implements Sink<Long> {
        @Override
        public SinkWriter<Long> createWriter(WriterInitContext ctx) {
            return new SinkWriter<>() {
                long count;
                long sum;

                @Override
                public void write(Long v, Context c) {
                    count++;
                    sum += v;
                }

                @Override
                public void flush(boolean endOfInput) {
                    if (endOfInput) {
                        COUNT.addAndGet(count);
                        SUM.addAndGet(sum);
                        count = 0;
                        sum = 0;
                    }
                }

                @Override
                public void close() {}
            };
        }
    }
}

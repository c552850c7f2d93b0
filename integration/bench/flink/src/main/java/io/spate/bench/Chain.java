package io.spate.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** W1: generator → map → filter → map → count-and-sum sink; prints (or writes to --output) "count,sum". */
final class Chain {
    private Chain() {}

    static void run(Bench.Flags f) throws Exception {
        long events = f.number("events");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(f.parallelism());
        env.fromSource(new DataGeneratorSource<>(i -> i, events, Types.LONG), WatermarkStrategy.noWatermarks(), "Source: generator")
                .map(i -> i * 0x9E3779B97F4A7C15L).returns(Types.LONG).name("Map: scramble")
                .filter(v -> (v >>> 61) != 0).name("Filter: 7 in 8")
                .map(v -> v ^ (v >>> 29)).returns(Types.LONG).name("Map: fold")
                .sinkTo(new Sinks.CountSum()).name("Sink: count,sum");
        Sinks.COUNT.set(0);
        Sinks.SUM.set(0);
        env.execute("bench-chain");
        String result = Sinks.COUNT.get() + "," + Sinks.SUM.get() + "\n";
        if (f.has("output")) {
            Path dir = Paths.get(f.string("output"));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("part-0"), result);
        } else {
            System.out.print(result);
        }
    }
}

package io.spate.bench;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * W5: a count per key in keyed state over many keys, with exactly-once
 * checkpoints; "key,count" per key once the input ended. Spate's twin is
 * integration/bench/spatejobs keyedcount.
 */
final class KeyedCount {
    private KeyedCount() {}

    static final class Count extends KeyedProcessFunction<Long, Long, String> {
        private transient ValueState<Long> n;

        @Override
        public void open(OpenContext ctx) {
            n = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(Long key, Context ctx, Collector<String> out) throws Exception {
            Long c = n.value();
            if (c == null) {
                // The final watermark at the end of the input fires it.
                ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE - 1);
                c = 0L;
            }
            n.update(c + 1);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<String> out) throws Exception {
            out.collect(ctx.getCurrentKey() + "," + n.value());
        }
    }

    static void run(Bench.Flags f) throws Exception {
        long events = f.number("events");
        long keys = f.number("keys");
        long interval = f.number("checkpoint-interval");
        if (keys < 1 || interval < 10) {
            Bench.usage("--keys must be at least 1 and --checkpoint-interval at least 10 (milliseconds)");
        }
        Configuration conf = new Configuration();
        // The default JobManager storage refuses state over 5 MB per subtask.
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, new java.io.File(f.string("checkpoint-dir")).toURI().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(f.parallelism());
        env.enableCheckpointing(interval, CheckpointingMode.EXACTLY_ONCE);
        env.fromSource(new DataGeneratorSource<>(i -> Long.remainderUnsigned(Bench.mix64(i), keys), events, Types.LONG),
                        WatermarkStrategy.noWatermarks(), "Source: generator")
                .keyBy(k -> k)
                .process(new Count()).returns(Types.STRING).name("KeyedProcess: count")
                .sinkTo(new Sinks.Lines(f.string("output"))).name("Sink: text");
        env.execute("bench-keyedcount");
    }
}

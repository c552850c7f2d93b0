package io.spate.bench;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * W3: Spate's examples/windowcount: "ts,key,value" lines → event-time windows
 * per key → "key,start,end,count,sum".
 */
final class WindowCount {
    private WindowCount() {}

    /** One parsed line. */
    public static final class Event {
        public long ts;
        public String key;
        public long value;

        public Event() {}
    }

    /** A window's count and sum. */
    public static final class Acc {
        public long count;
        public long sum;

        public Acc() {}
    }

    /** Parses "ts,key,value"; blank and malformed lines are skipped, as windowcount does. */
    static final class Parse implements FlatMapFunction<String, Event> {
        @Override
        public void flatMap(String line, Collector<Event> out) {
            String[] f = line.trim().split(",", -1);
            if (f.length != 3 || f[1].trim().isEmpty()) {
                return;
            }
            Event e = new Event();
            try {
                e.ts = Long.parseLong(f[0].trim());
                e.value = Long.parseLong(f[2].trim());
            } catch (NumberFormatException x) {
                return;
            }
            e.key = f[1].trim();
            out.collect(e);
        }
    }

    static final class CountSum implements AggregateFunction<Event, Acc, Acc> {
        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Event e, Acc a) {
            a.count++;
            a.sum += e.value;
            return a;
        }

        @Override
        public Acc getResult(Acc a) {
            return a;
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            a.count += b.count;
            a.sum += b.sum;
            return a;
        }
    }

    static final class Format extends ProcessWindowFunction<Acc, String, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Acc> results, Collector<String> out) {
            Acc a = results.iterator().next();
            out.collect(key + "," + ctx.window().getStart() + "," + ctx.window().getEnd() + "," + a.count + "," + a.sum);
        }
    }

    static WindowAssigner<Object, TimeWindow> assigner(String spec) {
        String[] p = spec.split(":");
        long[] n = new long[p.length - 1];
        for (int i = 1; i < p.length; i++) {
            try {
                n[i - 1] = Long.parseLong(p[i]);
            } catch (NumberFormatException e) {
                n[i - 1] = -1;
            }
            if (n[i - 1] <= 0) {
                Bench.usage("--window " + spec + ": " + p[i] + " is not a positive number of milliseconds");
            }
        }
        if (p[0].equals("tumbling") && n.length == 1) {
            return TumblingEventTimeWindows.of(Duration.ofMillis(n[0]));
        } else if (p[0].equals("sliding") && n.length == 2) {
            return SlidingEventTimeWindows.of(Duration.ofMillis(n[0]), Duration.ofMillis(n[1]));
        } else if (p[0].equals("session") && n.length == 1) {
            return EventTimeSessionWindows.withGap(Duration.ofMillis(n[0]));
        }
        Bench.usage("--window " + spec + ": want tumbling:SIZE, sliding:SIZE:SLIDE or session:GAP");
        return null;
    }

    static void run(Bench.Flags f) throws Exception {
        WindowAssigner<Object, TimeWindow> assigner = assigner(f.string("window"));
        long ooo = f.number("out-of-orderness");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(f.parallelism());
        FileSource<String> source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(f.string("input"))).build();
        // A text file is one split (TextLineInputFormat does not split), so one
        // reader reads it; a second, idle reader would hold the watermark back
        // until the end of the input.
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "Source: text").setParallelism(1)
                .flatMap(new Parse()).returns(Event.class).name("FlatMap: parse").setParallelism(1)
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofMillis(ooo))
                        .withTimestampAssigner((e, t) -> e.ts)).setParallelism(1)
                .keyBy(e -> e.key)
                .window(assigner)
                .aggregate(new CountSum(), new Format()).name("Window: count,sum")
                .sinkTo(new Sinks.Lines(f.string("output"))).name("Sink: text");
        env.execute("windowcount");
    }
}

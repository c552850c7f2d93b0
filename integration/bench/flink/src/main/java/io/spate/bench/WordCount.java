package io.spate.bench;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/** W2: Spate's examples/wordcount: lines → words → count per word → "word count". */
final class WordCount {
    private WordCount() {}

    /** The words of a line as examples/wordcount's Tokenize: runs of letters or digits, lowercased. */
    static final class Tokenize implements FlatMapFunction<String, Tuple2<String, Long>> {
        @Override
        public void flatMap(String line, Collector<Tuple2<String, Long>> out) {
            int start = -1;
            for (int i = 0; i < line.length(); ) {
                int c = line.codePointAt(i);
                if (Character.isLetterOrDigit(c)) {
                    if (start < 0) {
                        start = i;
                    }
                } else if (start >= 0) {
                    out.collect(Tuple2.of(line.substring(start, i).toLowerCase(), 1L));
                    start = -1;
                }
                i += Character.charCount(c);
            }
            if (start >= 0) {
                out.collect(Tuple2.of(line.substring(start).toLowerCase(), 1L));
            }
        }
    }

    static void run(Bench.Flags f) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(f.parallelism());
        env.setRuntimeMode(RuntimeExecutionMode.AUTOMATIC); // bounded input: one final count per word
        FileSource<String> source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(f.string("input"))).build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "Source: text")
                .flatMap(new Tokenize()).returns(Types.TUPLE(Types.STRING, Types.LONG)).name("FlatMap: tokenize")
                .keyBy(t -> t.f0)
                .sum(1).name("Sum: count")
                .map(t -> t.f0 + " " + t.f1).returns(Types.STRING).name("Map: format")
                .sinkTo(new Sinks.Lines(f.string("output"))).name("Sink: text");
        env.execute("wordcount");
    }
}

package io.spate.bench;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * W4: Spate's examples/nexmark, Nexmark q5 (hot items): bids per auction in
 * sliding windows, then the auction with the most bids per window, as
 * "end,auction,count". The bids come from the same function of the index.
 */
final class Nexmark {
    private Nexmark() {}

    /** One generated bid. */
    public static final class Bid {
        public long auction;
        public long bidder;
        public long price;
        public long ts;

        public Bid() {}
    }

    /** The number of bids of an auction in the window ending at end. */
    public static final class AuctionCount {
        public long auction;
        public long count;
        public long end;

        public AuctionCount() {}
    }

    /** examples/nexmark's GenerateBid: bid i, a pure function of i. */
    static final class Generate implements GeneratorFunction<Long, Bid> {
        private final long auctions;
        private final long bidsPerSecond;

        Generate(long auctions, long bidsPerSecond) {
            this.auctions = auctions;
            this.bidsPerSecond = bidsPerSecond;
        }

        @Override
        public Bid map(Long index) {
            long i = index;
            long h = Bench.mix64(i + 0x9e3779b97f4a7c15L);
            Bid b = new Bid();
            // Skew: a third of the bids go to the first 1% of auctions.
            b.auction = Long.remainderUnsigned(h, auctions);
            if ((h >>> 60) < 5) {
                b.auction = Long.remainderUnsigned(h >>> 8, Math.max(1, auctions / 100));
            }
            b.bidder = (h >>> 20) % 10000;
            b.price = (h >>> 40) % 1000 + 1;
            b.ts = i * 1000 / bidsPerSecond;
            return b;
        }
    }

    static final class Counter implements AggregateFunction<Bid, Long, Long> {
        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(Bid b, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    static final class ToAuctionCount extends ProcessWindowFunction<Long, AuctionCount, Long, TimeWindow> {
        @Override
        public void process(Long auction, Context ctx, Iterable<Long> counts, Collector<AuctionCount> out) {
            AuctionCount c = new AuctionCount();
            c.auction = auction;
            c.count = counts.iterator().next();
            c.end = ctx.window().getEnd();
            out.collect(c);
        }
    }

    /** Keeps, per window end, the auction with the most bids; emits it when the watermark passes the window. */
    static final class Hottest extends KeyedProcessFunction<Long, AuctionCount, String> {
        private transient ValueState<AuctionCount> best;

        @Override
        public void open(OpenContext ctx) {
            best = getRuntimeContext().getState(new ValueStateDescriptor<>("best", AuctionCount.class));
        }

        @Override
        public void processElement(AuctionCount c, Context ctx, Collector<String> out) throws Exception {
            AuctionCount b = best.value();
            if (b == null || c.count > b.count || (c.count == b.count && c.auction < b.auction)) {
                best.update(c);
            }
            ctx.timerService().registerEventTimeTimer(c.end - 1);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<String> out) throws Exception {
            AuctionCount b = best.value();
            if (b != null) {
                out.collect(b.end + "," + b.auction + "," + b.count);
                best.clear();
            }
        }
    }

    static void run(Bench.Flags f) throws Exception {
        long events = f.number("events");
        long auctions = f.number("auctions");
        long bidsPerSecond = f.number("bids-per-second");
        long size = f.number("window-size");
        long slide = f.number("window-slide");
        if (auctions < 1 || bidsPerSecond < 1 || size < 1 || slide < 1) {
            Bench.usage("--auctions, --bids-per-second, --window-size and --window-slide must be at least 1");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(f.parallelism());
        env.fromSource(new DataGeneratorSource<>(new Generate(auctions, bidsPerSecond), events, Types.POJO(Bid.class)),
                        WatermarkStrategy.<Bid>forMonotonousTimestamps().withTimestampAssigner((b, t) -> b.ts), "Source: bids")
                .keyBy(b -> b.auction)
                .window(SlidingEventTimeWindows.of(Duration.ofMillis(size), Duration.ofMillis(slide)))
                .aggregate(new Counter(), new ToAuctionCount()).name("Window: bids per auction")
                .keyBy(c -> c.end)
                .process(new Hottest()).returns(Types.STRING).name("KeyedProcess: hottest")
                .sinkTo(new Sinks.Lines(f.string("output"))).name("Sink: text");
        env.execute("nexmark-hot-items");
    }
}

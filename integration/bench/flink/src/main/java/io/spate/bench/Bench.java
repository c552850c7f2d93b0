package io.spate.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Flink's side of Spate's benchmark: each workload as a DataStream job on the
 * local MiniCluster that {@code StreamExecutionEnvironment.getExecutionEnvironment()}
 * starts in this JVM, untuned. Every job prints, or writes under --output, the
 * same lines as its Spate twin for the same flags.
 *
 * <pre>java -cp target/classes:$(cat target/cp.txt) io.spate.bench.Bench WORKLOAD --flag value ...</pre>
 */
public final class Bench {
    static final String USAGE = String.join("\n",
            "usage: Bench chain --events N --parallelism P [--output DIR]",
            "       Bench wordcount --input PATH --output DIR --parallelism P",
            "       Bench windowcount --input PATH --window tumbling:SIZE|sliding:SIZE:SLIDE|session:GAP --out-of-orderness MS --output DIR --parallelism P",
            "       Bench nexmark --events N --auctions A --bids-per-second R --window-size MS --window-slide MS --output DIR --parallelism P",
            "       Bench keyedcount --events N --keys K --checkpoint-interval MS --checkpoint-dir DIR --output DIR --parallelism P",
            "       Bench WORKLOAD FLAGS... [--next WORKLOAD FLAGS...]...   (one after the other in this JVM)");

    private Bench() {}

    public static void main(String[] args) throws Exception {
        // --next runs several jobs in one JVM, for the smoke test, where the
        // JVM's start would otherwise cost more than the jobs.
        int start = 0;
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals("--next")) {
                if (i == start) {
                    usage("no workload given");
                }
                run(args[start], new Flags(Arrays.copyOfRange(args, start + 1, i)));
                start = i + 1;
            }
        }
        // The MiniCluster leaves non-daemon threads behind.
        System.exit(0);
    }

    private static void run(String workload, Flags f) throws Exception {
        switch (workload) {
            case "chain" -> Chain.run(f);
            case "wordcount" -> WordCount.run(f);
            case "windowcount" -> WindowCount.run(f);
            case "nexmark" -> Nexmark.run(f);
            case "keyedcount" -> KeyedCount.run(f);
            default -> usage("unknown workload " + workload);
        }
    }

    static void usage(String why) {
        System.err.println("Bench: " + why + "\n" + USAGE);
        System.exit(2);
    }

    /** The --name value pairs of the command line. */
    static final class Flags {
        private final Map<String, String> values = new HashMap<>();

        Flags(String[] args) {
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 == args.length) {
                    usage("want --flag value pairs, got " + String.join(" ", args));
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
        }

        boolean has(String name) {
            return values.containsKey(name);
        }

        String string(String name) {
            String v = values.get(name);
            if (v == null) {
                usage("--" + name + " is required");
            }
            return v;
        }

        long number(String name) {
            String v = string(name);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                usage("--" + name + " must be an integer, got " + v);
                return 0;
            }
        }

        int parallelism() {
            long p = number("parallelism");
            if (p < 1) {
                usage("--parallelism must be at least 1, got " + p);
            }
            return (int) p;
        }
    }

    /** Spate's state.Mix64: the 64-bit finalizer of MurmurHash3. */
    static long mix64(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        x ^= x >>> 33;
        return x;
    }
}

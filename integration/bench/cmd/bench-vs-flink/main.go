// Command bench-vs-flink runs Spate's workloads beside the same jobs on
// Flink's MiniCluster and prints the comparison table (see integration/bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spate-io/spate/integration/bench"
)

const usage = "usage: bench-vs-flink [--scale full|smoke] [--reps N] [--parallelism P] [--work DIR] [--only W1,W3,...] [--timeout DURATION]"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("bench-vs-flink", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	scale := fl.String("scale", "full", "")
	reps := fl.Int("reps", 3, "")
	parallelism := fl.Int("parallelism", 2, "")
	work := fl.String("work", filepath.Join(os.TempDir(), "spate-bench"), "")
	only := fl.String("only", "", "")
	timeout := fl.Duration("timeout", 30*time.Minute, "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return 0
		}
		fmt.Fprintf(stderr, "bench-vs-flink: %v\n%s\n", err, usage)
		return 2
	}
	o := bench.Options{Parallelism: *parallelism, Reps: *reps, Timeout: *timeout, Progress: stderr}
	switch *scale {
	case "full":
		o.Sizes = bench.Full
	case "smoke":
		o.Sizes = bench.Smoke
	default:
		fmt.Fprintf(stderr, "bench-vs-flink: --scale must be full or smoke, got %q\n%s\n", *scale, usage)
		return 2
	}
	if *reps < 1 || *parallelism < 1 || fl.NArg() > 0 {
		fmt.Fprintf(stderr, "bench-vs-flink: --reps and --parallelism must be at least 1, and no arguments follow the flags\n%s\n", usage)
		return 2
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	o.WorkDir = filepath.Join(*work, *scale)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := bench.Run(ctx, o)
	if len(results) > 0 {
		fmt.Fprintf(stdout, "\nSpate (embedded) vs Flink 2.3.0 (MiniCluster, untuned), parallelism %d, medians of %d interleaved runs each:\n\n", o.Parallelism, o.Reps)
		bench.WriteTable(stdout, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench-vs-flink: %v\n", err)
		return 1
	}
	return 0
}

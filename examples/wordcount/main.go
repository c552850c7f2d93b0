package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/spate-io/spate/sdk"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	input := fl.String("input", "", "text file or directory to count")
	output := fl.String("output", "", "directory for the part files (default: print to stdout)")
	parallelism := fl.Int("parallelism", 0, "parallel subtasks (default: parallelism.default)")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: wordcount --input PATH [--output DIR] [--parallelism N]")
			return 0
		}
		fmt.Fprintf(stderr, "wordcount: %v; usage: wordcount --input PATH [--output DIR] [--parallelism N]\n", err)
		return 2
	}
	switch {
	case *input == "":
		fmt.Fprintln(stderr, "wordcount: --input is required; usage: wordcount --input PATH [--output DIR] [--parallelism N]")
		return 2
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "wordcount: unexpected argument %q; usage: wordcount --input PATH [--output DIR] [--parallelism N]\n", fl.Arg(0))
		return 2
	case *parallelism < 0:
		fmt.Fprintf(stderr, "wordcount: --parallelism must be at least 1, got %d\n", *parallelism)
		return 2
	}

	env := sdk.NewEnv()
	if *parallelism > 0 {
		env.SetParallelism(*parallelism)
	}
	Build(env, *input, *output)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := env.Execute(ctx, "wordcount"); err != nil {
		fmt.Fprintf(stderr, "wordcount: %v\n", err)
		return 1
	}
	return 0
}

// Build adds the WordCount dataflow to env: lines → words → keyed count → "word
// count" lines, printed to stdout or, when output is set, written to part files.
func Build(env *sdk.Env, input, output string) {
	env.SetRuntimeMode(sdk.Automatic) // bounded input: one final count per word
	lines := sdk.ReadTextFile(env, input)
	words := sdk.FlatMap(lines, Tokenize).Name("FlatMap: tokenize")
	counts := sdk.Sum(sdk.KeyBy(words, func(w string) string { return w }), func(string) int64 { return 1 }).Name("Sum: count")
	out := sdk.Map(counts, func(kv sdk.KeyValue[string, int64]) string {
		return kv.Key + " " + strconv.FormatInt(kv.Value, 10)
	}).Name("Map: format")
	if output != "" {
		sdk.WriteText(out, output).Name("Sink: text")
	} else {
		sdk.Print(out).Name("Sink: print")
	}
}

// Tokenize emits the words of line: maximal runs of letters or digits, lowercased.
func Tokenize(line string, out *sdk.Collector[string]) {
	start := -1
	for i := 0; i < len(line); {
		r, size := rune(line[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(line[i:])
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out.Collect(lower(line[start:i]))
			start = -1
		}
		i += size
	}
	if start >= 0 {
		out.Collect(lower(line[start:]))
	}
}

// lower is strings.ToLower without its allocation for words already in lower case.
func lower(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.ToLower(w)
		}
	}
	return w
}

package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The inputs are pure functions of their sizes (fixed seeds), written once
// under a name that holds those sizes and published by rename, so that runs
// share them and a killed run leaves no half file behind.

// TextInput is W2's input: a directory of parts files of ASCII text whose
// word frequencies follow a Zipf law over a vocabulary of 30,000 words.
// ASCII keeps Go's and Java's idea of a letter and of lower case the same.
type TextInput struct {
	Dir   string
	Words int64 // tokens, as examples/wordcount's Tokenize counts them
}

// MakeText writes about bytes of text as parts files under dir (reusing an
// earlier one of the same size) and returns it.
func MakeText(dir string, bytes int64, parts int) (TextInput, error) {
	name := filepath.Join(dir, fmt.Sprintf("text-%d-%d", bytes, parts))
	if in, err := readText(name); err == nil {
		return in, nil
	}
	tmp := name + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return TextInput{}, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return TextInput{}, err
	}
	rng := rand.New(rand.NewPCG(2, 14))
	vocab := make([]string, 30000)
	for i := range vocab {
		b := make([]byte, 2+rng.IntN(10))
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		if i%17 == 0 {
			b[len(b)-1] = byte('0' + rng.IntN(10))
		}
		vocab[i] = string(b)
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	var words int64
	for p := range parts {
		f, err := os.Create(filepath.Join(tmp, fmt.Sprintf("part-%d.txt", p)))
		if err != nil {
			return TextInput{}, err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for n := int64(0); n < bytes/int64(parts); {
			var line strings.Builder
			for k := 4 + rng.IntN(12); k > 0; k-- {
				word := vocab[zipf.Uint64()]
				if rng.IntN(10) == 0 {
					word = strings.ToUpper(word[:1]) + word[1:] // counted with its lower-case form
				}
				line.WriteString(word)
				words++
				switch rng.IntN(12) {
				case 0:
					line.WriteString(", ")
				case 1:
					line.WriteString(". ")
				case 2:
					line.WriteString(" - ")
				default:
					line.WriteByte(' ')
				}
			}
			line.WriteByte('\n')
			n += int64(line.Len())
			w.WriteString(line.String())
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return TextInput{}, err
		}
		if err := f.Close(); err != nil {
			return TextInput{}, err
		}
	}
	// The count lives beside the parts, under a name the readers skip.
	if err := os.WriteFile(filepath.Join(tmp, "_words"), []byte(strconv.FormatInt(words, 10)), 0o644); err != nil {
		return TextInput{}, err
	}
	if err := os.Rename(tmp, name); err != nil {
		return TextInput{}, err
	}
	return TextInput{Dir: name, Words: words}, nil
}

func readText(name string) (TextInput, error) {
	b, err := os.ReadFile(filepath.Join(name, "_words"))
	if err != nil {
		return TextInput{}, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return TextInput{}, fmt.Errorf("%s/_words: %w", name, err)
	}
	return TextInput{Dir: name, Words: n}, nil
}

// EventsOutOfOrderness bounds the disorder of MakeEvents' timestamps: every
// event is less than this many milliseconds older than one before it, so no
// event is late for a watermark that trails the largest timestamp by it.
const EventsOutOfOrderness = 500

// MakeEvents writes W3's input, "timestamp_ms,key,value" lines for
// examples/windowcount: one event per millisecond of event time, up to 399 ms
// out of order, over keys keys chosen uniformly, values 0-99.
func MakeEvents(dir string, events, keys int64) (string, error) {
	name := filepath.Join(dir, fmt.Sprintf("events-%d-%d.csv", events, keys))
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(3, 14))
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for i := range events {
		line = strconv.AppendInt(line[:0], 1000+i-rng.Int64N(400), 10)
		line = append(line, ",k"...)
		line = strconv.AppendInt(line, rng.Int64N(keys), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, rng.Int64N(100), 10)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return name, os.Rename(tmp, name)
}

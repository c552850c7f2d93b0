package sdk

import (
	"strconv"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
)

// discardLines is a part-file writer that keeps nothing.
type discardLines struct{ n int }

func (d *discardLines) WriteString(s string) error { d.n += len(s); return nil }

// BenchmarkWriteLines is the text sink's per-record work above the file
// writer: the newline check and the call.
func BenchmarkWriteLines(b *testing.B) {
	batch := make([]string, 1024)
	for i := range batch {
		batch[i] = strconv.Itoa(i%10) + "," + strconv.Itoa(i*7919)
	}
	w := &discardLines{}
	write := writeLines(w)
	for b.Loop() {
		if err := write(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteLinesTx is the same over a real exactly-once part-file
// writer on the local disk: the share of the newline check in the sink.
func BenchmarkWriteLinesTx(b *testing.B) {
	batch := make([]string, 1024)
	for i := range batch {
		batch[i] = strconv.Itoa(i%10) + "," + strconv.Itoa(i*7919)
	}
	w, err := filesystem.NewTxWriter(hdfs.Local{}, b.TempDir(), 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	write := writeLines(w)
	for b.Loop() {
		if err := write(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}

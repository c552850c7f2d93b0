package sdk_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
)

// TestFlatMapTenBatchesPerCallInOrder: a FlatMap whose every call emits ten
// batches' worth (pushed downstream during the call) delivers every record,
// in order, through a whole job.
func TestFlatMapTenBatchesPerCallInOrder(t *testing.T) {
	const batchSize = 8
	const n = 10 * batchSize
	env, _ := apiEnv(t, 1, "execution.batch-size", fmt.Sprint(batchSize))
	exploded := sdk.FlatMap(sdk.FromSlice(env, []string{"a", "b", "c"}), func(v string, out *sdk.Collector[string]) {
		for i := range n {
			out.Collect(fmt.Sprintf("%s%d", v, i))
		}
	})
	got := sdk.Collect(exploded)
	apiRun(t, env)
	var want []string
	for _, v := range []string{"a", "b", "c"} {
		for i := range n {
			want = append(want, fmt.Sprintf("%s%d", v, i))
		}
	}
	apiEqual(t, "flat-mapped records", got.Items(), want)
}

// TestReadTextFileMaxLineLength: source.text.max-line-bytes bounds the lines
// ReadTextFile reads; a longer line fails the job with an error naming the
// key, a line of exactly the limit is read.
func TestReadTextFileMaxLineLength(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.txt")
	long := filepath.Join(dir, "long.txt")
	if err := os.WriteFile(ok, []byte("short\n0123456789\r\nend"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(long, []byte("short\n0123456789\nabcdefghijk\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	env, _ := apiEnv(t, 1, "source.text.max-line-bytes", "10")
	got := sdk.Collect(sdk.ReadTextFile(env, ok))
	apiRun(t, env)
	apiEqual(t, "lines within the limit", got.Items(), []string{"short", "0123456789", "end"})

	env, _ = apiEnv(t, 1, "source.text.max-line-bytes", "10")
	sdk.Collect(sdk.ReadTextFile(env, long))
	err := apiExecute(t, env, "too long")
	want := fmt.Sprintf("input file %q: the line at byte offset 17 is longer than the maximum of 10 bytes (line too long); "+
		"if the file really has lines this long, raise source.text.max-line-bytes, otherwise check that it is a text file with '\\n' line endings", long)
	if !errors.Is(err, filesystem.ErrLineTooLong) || !errors.Is(err, jobmaster.ErrSuppressRestarts) || !strings.Contains(err.Error(), want) {
		t.Errorf("line over the limit: err = %v\nwant a failure no restart retries, saying\n%s", err, want)
	}

	env, _ = apiEnv(t, 1) // the default, 64 MiB, takes it
	got = sdk.Collect(sdk.ReadTextFile(env, long))
	apiRun(t, env)
	apiEqual(t, "lines under the default limit", got.Items(), []string{"short", "0123456789", "abcdefghijk"})

	if err := conf.New().Set("source.text.max-line-bytes", "0"); !errors.Is(err, conf.ErrInvalidValue) || !strings.Contains(err.Error(), "source.text.max-line-bytes") {
		t.Errorf("max-line-bytes 0: err = %v, want an invalid value naming the key", err)
	}
}

package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// preparedFactory adds a once-per-job check to a factory.
type preparedFactory struct {
	task.Factory
	prepare func(parallelism int) error
}

func (p preparedFactory) Prepare(parallelism int) error { return p.prepare(parallelism) }

func addSink[T any](s Stream[T], name string, f task.Factory) Sink {
	out := addOperator[T, struct{}](s, name, graph.KindSink, f)
	return newSink(s.env, out.refs[0].node)
}

// formatter returns how Print renders a T, chosen once: strings as they are,
// fmt.Stringers by String, everything else by fmt.Sprint.
func formatter[T any]() func(*bytes.Buffer, T) {
	var zero T
	switch any(zero).(type) {
	case string:
		return func(b *bytes.Buffer, v T) { b.WriteString(any(v).(string)) }
	case fmt.Stringer:
		return func(b *bytes.Buffer, v T) { b.WriteString(any(v).(fmt.Stringer).String()) }
	}
	return func(b *bytes.Buffer, v T) { fmt.Fprint(b, v) }
}

// stdoutLock keeps the lines of concurrent print sinks whole.
var stdoutLock sync.Mutex

// Print writes every record to stdout, one line each. Lines of different subtasks
// interleave, but each line is whole.
func Print[T any](s Stream[T]) Sink {
	w, format := s.env.stdout, formatter[T]()
	return addSink(s, "Sink: print", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		var buf bytes.Buffer
		return task.NewSinkFunc(ctx, func(batch []T) error {
			buf.Reset()
			for _, v := range batch {
				format(&buf, v)
				buf.WriteByte('\n')
			}
			stdoutLock.Lock()
			defer stdoutLock.Unlock()
			_, err := w.Write(buf.Bytes())
			return err
		}, nil, nil), nil
	}))
}

// Collected holds what a Collect sink received; read it after Execute returns.
// Its Sink configures the collecting operator (name, parallelism, …).
type Collected[T any] struct {
	Sink
	mu        sync.Mutex
	bySubtask [][]T
}

// Items returns every record, subtask by subtask; within a subtask in arrival order.
func (c *Collected[T]) Items() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []T
	for _, part := range c.bySubtask {
		all = append(all, part...)
	}
	return all
}

// Collect gathers every record in memory, for tests and small results.
func Collect[T any](s Stream[T]) *Collected[T] {
	c := &Collected[T]{}
	c.Sink = addSink(s, "Sink: collect", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		var local []T
		return task.NewSinkFunc(ctx, func(batch []T) error {
			local = append(local, batch...)
			return nil
		}, func() error {
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(c.bySubtask) < ctx.Parallelism {
				c.bySubtask = append(c.bySubtask, make([][]T, ctx.Parallelism-len(c.bySubtask))...)
			}
			c.bySubtask[ctx.Subtask] = local
			return nil
		}, nil), nil
	}))
	return c
}

// WriteText writes every record as a line into part files under dir, one per
// subtask ("part-<subtask>-0"). A part file appears, by rename, only when its
// subtask has finished, so a reader never sees half a file. dir is a local path or
// a file:// URI; it must not already hold part files.
func WriteText(s Stream[string], dir string) Sink {
	var fsys hdfs.FileSystem
	var path string
	f := task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[string], error) {
		w, err := filesystem.NewPartFileWriter(fsys, path, ctx.Subtask, 0)
		if err != nil {
			return nil, err
		}
		done := false
		return task.NewSinkFunc(ctx, func(batch []string) error {
			for _, line := range batch {
				if err := w.WriteString(line); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			done = true
			return w.Commit()
		}, func() error {
			if done {
				return nil
			}
			return w.Abort()
		}), nil
	})
	prepare := func(int) error {
		var err error
		if fsys, path, err = hdfs.Resolve(dir); err != nil {
			return err
		}
		return checkOutputDir(fsys, path, dir)
	}
	return addSink(s, "Sink: text", preparedFactory{Factory: f, prepare: prepare})
}

func checkOutputDir(fsys hdfs.FileSystem, path, dir string) error {
	fi, err := fsys.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the writers create it
	}
	if err != nil {
		return fmt.Errorf("cannot use output directory %q: %w", dir, err)
	}
	if !fi.IsDir {
		return fmt.Errorf("output %q is a file, not a directory; choose a directory", dir)
	}
	entries, err := fsys.ReadDir(path)
	if err != nil {
		return fmt.Errorf("cannot read output directory %q: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, "part-") {
			return fmt.Errorf("output directory %q already holds part files (%s); remove them or choose another directory", dir, e.Name)
		}
	}
	return nil
}

// SinkFunc hands every batch to fn, from each subtask's goroutine. fn must not
// keep the batch after it returns.
func SinkFunc[T any](s Stream[T], fn func(batch []T) error) Sink {
	return addSink(s, "Sink: func", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		return task.NewSinkFunc(ctx, fn, nil, nil), nil
	}))
}

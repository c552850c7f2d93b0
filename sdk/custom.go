package sdk

import "github.com/spate-io/spate/worker/task"

// FromSource adds a source whose subtasks f builds (a source factory, such as
// task.NewSourceFactory's), for connectors outside this package like
// sdk/connectors/kafka. bounded says whether its input ends; f may implement
// task.Preparer for a once-per-job check.
func FromSource[T any](env *Env, name string, bounded bool, f task.Factory) Stream[T] {
	return addSource[T](env, name, bounded, f)
}

// ToSink adds a sink whose subtasks f builds (a sink factory, such as
// task.NewSinkFactory's), for connectors outside this package.
func ToSink[T any](s Stream[T], name string, f task.Factory) Sink {
	return addSink(s, name, f)
}

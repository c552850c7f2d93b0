// Package sdk is Spate's DataStream API and the composition root of a job binary.
//
// A job is an ordinary Go program. Its main() creates an Env, builds a dataflow
// from typed streams and calls Execute:
//
//	env := sdk.NewEnv()
//	lines := sdk.ReadTextFile(env, "input.txt")
//	words := sdk.FlatMap(lines, tokenize).Name("tokenize")
//	counts := sdk.Sum(sdk.KeyBy(words, identity), func(string) int64 { return 1 })
//	sdk.Print(sdk.Map(counts, format))
//	result, err := env.Execute(ctx, "wordcount")
//
// Stream[T] is a stream of T; KeyedStream[K, T] is a stream partitioned by a key
// of type K. Steps that keep the type are methods (Filter, Rebalance, Union,
// Reduce); steps that change it are package functions (Map, FlatMap, Process, Sum)
// because Go methods cannot take type parameters. Name, UID, SetParallelism and
// DisableChaining configure the operator a stream comes from, as in Flink.
//
// Building the graph does no I/O and never panics on a user mistake: errors are
// collected and returned by Execute, each naming what to change.
//
// # Event time, state and windows
//
// AssignTimestampsAndWatermarks gives a stream event time (milliseconds) and
// watermarks: ForBoundedOutOfOrderness, ForMonotonousTimestamps or IngestionTime,
// optionally WithIdleness. Records carry their timestamp through every operator;
// an operator's watermark is the minimum over its inputs and never goes back; a
// bounded source ends with the maximum watermark, which fires every pending
// timer and window.
//
// KeyedProcess runs a KeyedProcessFunction with keyed state (Value, List, Map,
// Reducing, Aggregating; optional TTL) declared in Open, and event- or
// processing-time timers. KeyedCoProcess and CoProcess take two inputs.
// EmitSide and SideOutput give side outputs.
//
// KeyedStream.Window cuts a keyed stream into tumbling, sliding, session or
// global windows; Trigger, Evictor, AllowedLateness and SideOutputLateData
// refine it; Reduce and Aggregate fold incrementally, ProcessWindow gets every
// element, ReduceProcess and AggregateProcess combine both.
//
// # Where a job runs
//
// The job binary plays every role (see DESIGN.md). SPATE_ROLE=info makes Execute
// print the plan as JSON to stdout and exit 0 without running: that is what
// `spate info` does. Otherwise Execute runs the job on execution.target, today
// always the embedded cluster: JobManager and TaskManagers in this process, with
// as many slots as the job needs unless taskmanager.numberOfTaskSlots is set.
//
// # Bounded jobs
//
// A job whose sources all end is bounded. Under execution.runtime-mode
// "automatic" it then runs with batch semantics: keyed aggregations emit one
// final result per key instead of every update. Execute returns when every task
// has finished, with the records in and out of every operator.
package sdk

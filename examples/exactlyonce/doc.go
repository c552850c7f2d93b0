// Command exactlyonce is the end-to-end check of Spate's exactly-once
// checkpoints, with this contract (other checks depend on it):
//
//	exactlyonce --keys K --per-key N --failures F --checkpoint-interval MS --output DIR [--parallelism P]
//
// A bounded generator emits, for each key 0..K-1, the sequence numbers 1..N. A
// keyed process function checks that each key's numbers arrive exactly as
// previous+1 (the last number is keyed state) and fails the job for good if
// not. The job injects F failures — a panic in a task at a pseudo-random point
// after at least one checkpoint of the current execution has completed — and
// recovers from each, from the latest checkpoint, by the fixed-delay restart
// strategy with F attempts. The exactly-once text sink writes one line
// "key,seq" per record into DIR. A correct run exits 0, DIR's part files hold
// each "key,seq" exactly once, and stdout ends with a summary line:
//
//	exactlyonce: 40000 records, 3 failures injected, 3 recoveries
//
// Extra flags: --fail-in process|snapshot|restore chooses where failures are
// injected: while processing records (default), while a checkpoint's snapshot
// is taken (the checkpoint is declined and, with no tolerated checkpoint
// failure, the job fails over), or alternately while processing and while the
// next execution restores its state. --seed picks the pseudo-random points.
//
// The generator runs with parallelism 1, so each key's numbers leave it in
// order; it is throttled so that the job spans about eight checkpoint intervals
// per injected failure. The keyed check and the sink run with --parallelism.
package main

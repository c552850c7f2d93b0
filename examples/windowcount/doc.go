// Command windowcount counts and sums values per key and event-time window.
//
//	windowcount --input PATH --window SPEC --out-of-orderness MS [--parallelism N] [--output DIR]
//
// Input lines are "timestamp_ms,key,value" (value an integer); the event time is
// the first field. SPEC is tumbling:SIZE, sliding:SIZE:SLIDE or session:GAP, in
// milliseconds. Each output line is "key,window_start,window_end,count,sum",
// window_end exclusive; a session window runs from its first timestamp to its
// last timestamp plus the gap. Malformed lines are counted and reported on
// stderr; they never stop the job.
package main

// Package conf owns Spate's configuration: the one table of every key, with
// its type, default and doc, and the loading of values from spate.yaml, the
// environment and -D flags.
//
// # The table
//
// Every key is declared once, in this package, as a typed package variable:
//
//	var ParallelismDefault = Int("parallelism.default", 1, "…").Min(1)
//
// The constructors (Int, Float, String, Bool, Duration, Enum) register the key in the
// table at package initialisation; Options lists it, sorted by key, and
// `spate config` prints it. Keys follow Flink's names where the meaning is the
// same, so a Flink user's configuration reads the same here. A key that is not
// in the table is an error, never silently ignored: a typo must not turn into
// a default.
//
// # Values and precedence
//
// A Config holds only the values that were set explicitly, as strings; the
// defaults live in the table. Code reads a value through its typed option,
// which falls back to the default:
//
//	p := conf.ParallelismDefault.Get(cfg) // int
//
// Set validates a value against its option before storing it (and stores
// enums and booleans in lower case), so Get never fails. Load builds the
// effective configuration, each source overriding the ones before it:
//
//  1. the defaults in the table;
//  2. $SPATE_CONF_DIR/spate.yaml, if SPATE_CONF_DIR is set (a missing file
//     is then an error);
//  3. SPATE_PROPERTIES: key=value lines, the way `spate run` hands its
//     configuration to a job binary (see EncodeProperties);
//  4. -D key=value flags.
//
// spate.yaml may write keys flat ("parallelism.default: 4") or nested
// ("parallelism: {default: 4}"); both flatten to the same dotted key.
//
// # Errors
//
// Errors are for the user: one line that names the source, the key and what
// to change, for example
//
//	conf/spate.yaml: line 3: invalid value "abc" for parallelism.default: want an integer ≥ 1
//
// They wrap ErrUnknownKey or ErrInvalidValue; test them with errors.Is.
//
// # What it must never do
//
// conf does no I/O except reading spate.yaml and the environment, and it
// knows nothing of the runtime: it imports no other Spate package. A Config
// is not safe for concurrent modification; the table is written only during
// package initialisation and is read-only afterwards.
package conf

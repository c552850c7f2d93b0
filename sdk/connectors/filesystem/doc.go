// Package filesystem holds the type-agnostic building blocks of the file
// connectors: finding and splitting input files, reading their lines, and
// writing part files. The typed source and sink adapters of the runtime are
// built on them; everything here goes through an hdfs.FileSystem.
//
// # Reading: enumerate, split, read
//
// Enumerate lists the input files under a path. AssignSplits lays the files
// end to end and gives each of p subtasks an equal share of the bytes, as
// Splits: byte ranges [Start, End) of one file. A LineReader reads one Split.
//
//	files, err := filesystem.Enumerate(fsys, "/data/in")
//	splits := filesystem.AssignSplits(files, p)[subtask]
//	for _, s := range splits {
//		r, err := filesystem.NewLineReader(fsys, s, 0)
//		for {
//			batch, err = r.ReadBatch(batch[:0], 1024)
//			if err == io.EOF { break }
//			...
//		}
//		r.Close()
//	}
//
// A line belongs to the split in which its first byte lies (as in Hadoop's
// LineRecordReader): a reader skips the tail of a line that started before its
// split and reads past End to finish the last line that starts inside it. So,
// whatever the cut points, the splits of a file partition its lines exactly:
// every line is read once, by one subtask, and reading the subtasks' splits in
// order yields the files' lines in order.
//
// A line ends at '\n'; a '\r' before it is dropped ("\r\n" files read like
// "\n" files); the last line of a file needs no '\n'; a file ending in '\n'
// has no empty line after it.
//
// LineReader.Offset is the position of the next line, so a reader can be
// recreated where it stood, e.g. on recovery from a checkpoint:
//
//	resumed, err := filesystem.NewLineReader(fsys, filesystem.Split{Path: s.Path, Start: r.Offset(), End: s.End}, 0)
//
// Enumerate skips every name starting with "." or "_" (hidden files, _SUCCESS
// markers and in-progress part files, by the Hadoop and Flink convention).
//
// # Writing: part files
//
// A PartFileWriter writes one subtask's output to a hidden in-progress file
// and publishes it by renaming it on Commit, so a reader (Enumerate included)
// never sees half a file. Abort deletes the in-progress file.
//
// # What this package must never do
//
// It never touches package os (tests inject faults through hdfs/faultfs), never
// decodes records beyond splitting lines, and never starts goroutines: each
// LineReader and PartFileWriter belongs to one task.
package filesystem

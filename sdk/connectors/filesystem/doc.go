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
// # Writing exactly once: TxWriter
//
// A TxWriter is the exactly-once sink of a subtask, a two-phase commit driven by
// checkpoints (like Flink's FileSink). A part file goes through three names in dir:
//
//	WriteString    .part-<s>-<i>.inprogress   lines being written
//	PreCommit(c)   .part-<s>-<i>.pending      sealed: flushed, synced, closed (barrier c)
//	Commit(c)      part-<s>-<i>               published (checkpoint c completed)
//
// Only the last name is visible to readers (Enumerate skips names starting with "."),
// and it appears only by a rename that never replaces an existing final file
// (hdfs.RenameNoReplace, as Hadoop's rename): committed output is not
// overwritten, whoever commits again. On HDFS a write or sync error breaks
// the pipeline for good (hdfs.ErrWritePipeline): the writer is broken, the
// checkpoint is declined and the runtime restores the last one. The runtime
// drives the writer:
//
//	w, err := filesystem.NewTxWriter(fsys, dir, subtask, 0)
//	err = w.WriteString(line)               // for each record
//	state, err := w.PreCommit(c)            // on barrier c: state goes into checkpoint c
//	err = w.Commit(c)                       // when checkpoint c has completed
//	state, err = w.PreCommit(filesystem.EndOfInput) // when the input has ended...
//	err = w.Commit(filesystem.EndOfInput)           // ...and, later, the job has finished
//	w.Close()                               // on failure: abandons the in-progress file
//
// A notification may be lost or late: each PreCommit returns every pending file not yet
// committed, and Commit(c) publishes all those with a checkpoint ID up to c. So the
// latest completed checkpoint always lists every pre-committed file that might not be
// published yet. On recovery from it, each subtask:
//
//	err := filesystem.CommitPending(fsys, allPending)   // union of the restored Pending lists
//	err = filesystem.Cleanup(fsys, dir, allPending, func(s int) bool { return s == subtask })
//	w, err := filesystem.NewTxWriter(fsys, dir, subtask, restored.NextIndex)
//
// CommitPending is idempotent (a file committed before the failure, or concurrently by
// another subtask, is fine). Cleanup removes the in-progress and pending files of the
// failed attempt; it must finish before a writer of a subtask it matches writes, so each
// subtask cleans its own files (plus, on one subtask, those of subtasks that no longer
// exist after a rescale).
//
// Why names never collide across restarts. Indices of a subtask increase within an
// attempt, and NextIndex, saved in each checkpoint, is the first index not yet used when
// the barrier passed. After a restore from checkpoint c:
//   - every index below NextIndex(c) belongs to a file sealed before barrier c: committed
//     before, or listed in c's Pending and committed by CommitPending; it is final and is
//     never written again;
//   - every file with index NextIndex(c) or above was opened after barrier c by the failed
//     attempt. Its lines will be replayed, so it is garbage. It cannot be final: that needs
//     a checkpoint after c to have completed, and the runtime restores from the latest
//     completed checkpoint (and notifies completion only once a checkpoint is durably
//     complete). So it is in-progress or pending, and Cleanup removes it before the new
//     writer reuses its index.
//
// As a guard for the cases outside this argument (a fresh start into a directory holding
// earlier output, a restore from an older checkpoint or savepoint, a rescale that loses a
// subtask's NextIndex), NewTxWriter starts after the highest index of any file of its
// subtask already in dir: it never overwrites a file it does not own.
//
// # What this package must never do
//
// It never touches package os (tests inject faults through hdfs/faultfs), never
// decodes records beyond splitting lines, and never starts goroutines: each
// LineReader, PartFileWriter and TxWriter belongs to one task.
package filesystem

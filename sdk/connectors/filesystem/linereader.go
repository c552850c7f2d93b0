package filesystem

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
)

// DefaultMaxLineBytes is the line length limit of a LineReader constructed with maxLineBytes 0:
// the default of source.text.max-line-bytes (conf.SourceTextMaxLineBytes).
const DefaultMaxLineBytes = 64 << 20

// ErrLineTooLong is wrapped by LineReader.ReadBatch's error when a line is longer than the
// reader's limit. It is a user error: the input is not what the job expects, or the limit,
// source.text.max-line-bytes, is too low for it.
var ErrLineTooLong = errors.New("line too long")

// ErrStreamResume is wrapped by NewLineReader's error for a stream split (Split.Stream) that
// starts past byte 0: a pipe or device cannot be rewound or skipped to where an earlier
// reader stood, so its lines from there are gone.
var ErrStreamResume = errors.New("a stream cannot be read again from the middle")

const (
	readBufferSize    = 256 << 10 // the reader's buffer for splits at least this long
	minReadBufferSize = 16 << 10  // ... and for shorter splits
	keepLongLineBytes = 4 << 20   // scratch for long lines above this is not kept between lines
)

var errReaderClosed = errors.New("filesystem: LineReader used after Close")

// LineReader reads the lines of one split (see the package documentation for which lines
// those are). Lines end at '\n'; a trailing "\r" is stripped; the last line of a file needs no
// '\n'. A line longer than the reader's limit is an error naming the file and offset.
// A LineReader is not safe for concurrent use.
type LineReader struct {
	path    string
	f       hdfs.File
	br      *bufio.Reader
	off     int64 // offset of the next line in the file
	end     int64 // lines starting at or after end belong to the next split
	maxLine int
	long    []byte // scratch for lines longer than br's buffer
	err     error  // sticky: returned once the lines before it are consumed
	// opened is f, kept for Interrupt: set once, never cleared, so that
	// another goroutine may read it.
	opened hdfs.File
}

// Interrupt closes the file under a ReadBatch that may be blocked in it (a
// pipe whose writer sends nothing), so that the read returns with an error.
// It is the one method that may be called from another goroutine, also
// after Close.
func (r *LineReader) Interrupt() { _ = r.opened.Close() }

// NewLineReader opens s.Path and positions the reader at the first line of s: if s.Start is
// not 0 it skips what is left of the line that started before s. A stream split (s.Stream())
// is read from the current position of the stream, which must be its start, to its end: never
// seeked, and refused, with an error wrapping ErrStreamResume, if s.Start is not 0.
// maxLineBytes limits the length of a line without its "\n" or "\r\n"; 0 means
// DefaultMaxLineBytes. The caller must Close the reader.
func NewLineReader(fsys hdfs.FileSystem, s Split, maxLineBytes int) (*LineReader, error) {
	if maxLineBytes < 0 {
		return nil, fmt.Errorf("filesystem: maximum line length must be positive, or 0 for the default, got %d", maxLineBytes)
	}
	if maxLineBytes == 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	if s.Start < 0 {
		return nil, fmt.Errorf("filesystem: invalid split %v", s)
	}
	if s.Stream() && s.Start > 0 {
		return nil, fmt.Errorf("input %q is a pipe or device, not a regular file: it cannot be read again from byte offset %d (%w)", s.Path, s.Start, ErrStreamResume)
	}
	f, err := fsys.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("open input file %q: %w", s.Path, cause(err))
	}
	r := &LineReader{path: s.Path, f: f, opened: f, off: s.Start, end: s.End, maxLine: maxLineBytes}
	if s.Start >= s.End { // empty, or resumed after its last line
		r.err = io.EOF
		return r, nil
	}
	// Start one byte early: if that byte is the '\n' ending the previous line, the skip below
	// consumes just it and the first line starts exactly at s.Start. (A stream starts at 0:
	// it is read from where it stands, with Read only.)
	pos := max(s.Start-1, 0)
	if pos > 0 {
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek input file %q to byte offset %d: %w", s.Path, pos, cause(err))
		}
	}
	r.off = pos
	r.br = bufio.NewReaderSize(f, int(min(max(s.End-pos, minReadBufferSize), readBufferSize)))
	if s.Start > 0 {
		if err := r.skipLine(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return r, nil
}

// skipLine discards the input up to and including the next '\n', without buffering it.
func (r *LineReader) skipLine() error {
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.off += int64(len(chunk))
		switch err {
		case nil:
			return nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			r.err = io.EOF
			return nil
		default:
			return r.readError(err)
		}
	}
}

// ReadBatch appends up to maxLines lines to dst and returns it. It returns either at least one
// line and a nil error, or no line and an error: io.EOF when the split is exhausted, else an
// error naming the file (one wrapping ErrLineTooLong for an overlong line). Errors are
// sticky. Each line is a fresh string that the caller may keep.
func (r *LineReader) ReadBatch(dst []string, maxLines int) ([]string, error) {
	if maxLines <= 0 {
		return dst, fmt.Errorf("filesystem: ReadBatch needs a positive batch size, got %d", maxLines)
	}
	if r.err != nil {
		return dst, r.err
	}
	n := len(dst)
	for len(dst)-n < maxLines {
		if r.off >= r.end {
			r.err = io.EOF
			break
		}
		line, err := r.readLine()
		if err != nil {
			r.err = err
			break
		}
		dst = append(dst, line)
	}
	if len(dst) == n {
		return dst, r.err
	}
	return dst, nil
}

// readLine reads the line starting at r.off. On error r.off stays at the line's start.
func (r *LineReader) readLine() (string, error) {
	start := r.off
	chunk, err := r.br.ReadSlice('\n')
	switch err {
	case nil, io.EOF:
		if len(chunk) == 0 { // err == io.EOF
			return "", io.EOF
		}
		line := trimEOL(chunk)
		if len(line) > r.maxLine {
			return "", r.tooLong(start)
		}
		r.off += int64(len(chunk))
		return string(line), nil
	case bufio.ErrBufferFull:
		return r.readLongLine(start, chunk)
	default:
		return "", r.readError(err)
	}
}

// readLongLine finishes a line that did not fit in the buffer; chunk is its beginning.
func (r *LineReader) readLongLine(start int64, chunk []byte) (string, error) {
	r.long = append(r.long[:0], chunk...)
	for {
		if len(r.long)-1 > r.maxLine { // too long even if it ends in "\r\n"
			r.off = start
			return "", r.tooLong(start)
		}
		chunk, err := r.br.ReadSlice('\n')
		r.long = append(r.long, chunk...)
		if err == nil || err == io.EOF {
			break
		}
		if err != bufio.ErrBufferFull {
			r.off = start
			return "", r.readError(err)
		}
	}
	line := trimEOL(r.long)
	if len(line) > r.maxLine {
		return "", r.tooLong(start)
	}
	r.off = start + int64(len(r.long))
	s := string(line)
	if cap(r.long) > keepLongLineBytes {
		r.long = nil
	}
	return s, nil
}

// trimEOL strips a trailing "\n", then a trailing "\r".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func (r *LineReader) tooLong(start int64) error {
	return fmt.Errorf("input file %q: the line at byte offset %d is longer than the maximum of %d bytes (%w); "+
		"if the file really has lines this long, raise %s, otherwise check that it is a text file with '\\n' line endings",
		r.path, start, r.maxLine, ErrLineTooLong, conf.SourceTextMaxLineBytes.Key())
}

func (r *LineReader) readError(err error) error {
	return fmt.Errorf("read input file %q at byte offset %d: %w", r.path, r.off, cause(err))
}

// Offset is the byte offset within the file of the next line ReadBatch would return. A reader
// for Split{Path, Offset(), End} continues exactly where this one stands (after io.EOF, or
// after an error, at the same point: with nothing left, or at the failing line).
func (r *LineReader) Offset() int64 { return r.off }

// Close closes the file. Reading after Close is an error; closing twice is not.
func (r *LineReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.br, r.long = nil, nil, nil
	if r.err == nil || r.err == io.EOF {
		r.err = errReaderClosed
	}
	if err != nil {
		return fmt.Errorf("close input file %q: %w", r.path, cause(err))
	}
	return nil
}

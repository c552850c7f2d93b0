package hdfs

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// ErrUnsupportedScheme is wrapped by Resolve's error when a URI's scheme has no
// FileSystem in this build (anything other than file: and hdfs:).
var ErrUnsupportedScheme = errors.New("unsupported filesystem scheme")

// FileInfo describes one file or directory.
type FileInfo struct {
	// Path is the full path, usable with the FileSystem that returned it.
	Path string
	// Name is the last element of Path.
	Name string
	// Size is the length in bytes of a regular file; that of a directory or
	// a special file means nothing (a pipe's is 0 whatever it will carry).
	Size  int64
	IsDir bool
	// Special is true for what is neither a regular file nor a directory: a
	// pipe, FIFO, socket or device. It can only be read once, in order, from
	// the start: no Seek, no ReadAt, and no size to split it by. The zero value
	// is a regular file (or a directory, with IsDir).
	Special bool
	ModTime time.Time
}

// File is an open file for reading. The caller must Close it.
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
}

// FileSystem is the interface every input, output and checkpoint path goes
// through. Paths are those returned by Resolve or by the FileSystem itself.
// Errors name the path and wrap their cause (errors.Is(err, fs.ErrNotExist)
// works).
type FileSystem interface {
	// Open opens a file for reading.
	Open(path string) (File, error)
	// Create creates or truncates a file for writing. Its parent directory must
	// exist. The caller must Close the writer; data may not be visible before.
	// Where the writer also has a Sync() error method, Sync makes the written
	// data durable.
	Create(path string) (io.WriteCloser, error)
	// Stat describes a file or directory.
	Stat(path string) (FileInfo, error)
	// ReadDir lists a directory's entries, sorted by name.
	ReadDir(path string) ([]FileInfo, error)
	// MkdirAll creates a directory and any missing parents; an existing
	// directory is not an error.
	MkdirAll(path string) error
	// Rename moves oldPath to newPath, replacing newPath if it is a file.
	// It is atomic on the local filesystem.
	Rename(oldPath, newPath string) error
	// Remove removes a file or an empty directory. A missing path is an error
	// wrapping fs.ErrNotExist.
	Remove(path string) error
	// RemoveAll removes a path and everything under it. A missing path is not
	// an error.
	RemoveAll(path string) error
}

// Resolve maps a URI or path to the filesystem that serves it and the path to
// hand that filesystem. See the package documentation for the accepted forms.
func Resolve(uri string) (FileSystem, string, error) {
	if uri == "" {
		return nil, "", errors.New("empty path: give a local path or a file:// URI")
	}
	scheme, rest, ok := splitScheme(uri)
	if !ok {
		return resolveSchemeless(uri)
	}
	switch strings.ToLower(scheme) {
	case "file":
		p, err := fileURIPath(uri, rest)
		if err != nil {
			return nil, "", err
		}
		return Local{}, p, nil
	case "hdfs":
		return defaultHadoopClients().Resolve(uri)
	default:
		return nil, "", fmt.Errorf("%w %q in %q; use a local path, file:// or hdfs://", ErrUnsupportedScheme, scheme, uri)
	}
}

// splitScheme splits "scheme:rest" as RFC 3986 defines a scheme (a letter, then
// letters, digits, '+', '-' or '.'). Like Hadoop's Path, a colon before the
// first slash therefore starts a URI. A single letter is not taken as a
// scheme, so a Windows drive letter stays a path.
func splitScheme(uri string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(uri, ':')
	if i < 2 {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		c := uri[j]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", "", false
		}
	}
	return uri[:i], uri[i+1:], true
}

// fileURIPath returns the local path of a file: URI, given what follows "file:".
func fileURIPath(uri, rest string) (string, error) {
	p := rest
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		host, path, found := strings.Cut(after, "/")
		if !found {
			return "", fmt.Errorf("file URI %q has no path: use file:///absolute/path", uri)
		}
		if host != "" && !strings.EqualFold(host, "localhost") {
			return "", fmt.Errorf("file URI %q names host %q, but file:// paths are local to each machine: use file:///path", uri, host)
		}
		p = "/" + path
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("file URI %q is not absolute: use file:///absolute/path, or a plain relative path", uri)
	}
	return filepath.Clean(p), nil
}

// URI returns p on fsys as what Resolve maps back to fsys and p:
// "hdfs://authority/p" on HDFS, p itself on the local filesystem (and on any
// FileSystem without a URI() string method). A path handed to another
// process, or to the user, must be one: a bare HDFS path would resolve to
// the local disk.
func URI(fsys FileSystem, p string) string {
	if u, ok := fsys.(interface{ URI() string }); ok {
		return u.URI() + p
	}
	return p
}

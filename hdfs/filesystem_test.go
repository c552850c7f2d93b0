package hdfs

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		uri  string
		path string
	}{
		{"file:///abs/path", "/abs/path"},
		{"file:/abs", "/abs"},
		{"FILE:///abs", "/abs"},
		{"file://localhost/abs/x", "/abs/x"},
		{"file:///abs/../x/./y/", "/x/y"},
		{"file:///a%20b?c#d", "/a%20b?c#d"}, // literal, as Hadoop's Path
		{"file:///", "/"},
		{"/abs/path", "/abs/path"},
		{"/abs//path/", "/abs/path"},
		{"rel/path", "rel/path"},
		{"./rel", "rel"},
		{".", "."},
		{"rel/a:b", "rel/a:b"}, // colon after a slash: not a scheme
		{"c:/x", "c:/x"},       // one letter: a drive, not a scheme
	}
	for _, tt := range tests {
		fsys, p, err := Resolve(tt.uri)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.uri, err)
			continue
		}
		if _, ok := fsys.(Local); !ok {
			t.Errorf("Resolve(%q) filesystem = %T, want Local", tt.uri, fsys)
		}
		if p != tt.path {
			t.Errorf("Resolve(%q) path = %q, want %q", tt.uri, p, tt.path)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		uri         string
		unsupported bool
		msg         string
	}{
		{"hdfs:rel/x", false, `hdfs URI "hdfs:rel/x" is not absolute: use hdfs://namenode/absolute/path or hdfs:///absolute/path`},
		{"s3://b/k", true, `unsupported filesystem scheme "s3" in "s3://b/k"; use a local path, file:// or hdfs://`},
		{"gs:bucket", true, `unsupported filesystem scheme "gs" in "gs:bucket"; use a local path, file:// or hdfs://`},
		{"", false, `empty path: give a local path or a file:// URI`},
		{"file://host/x", false, `file URI "file://host/x" names host "host", but file:// paths are local to each machine: use file:///path`},
		{"file://", false, `file URI "file://" has no path: use file:///absolute/path`},
		{"file:rel/x", false, `file URI "file:rel/x" is not absolute: use file:///absolute/path, or a plain relative path`},
	}
	for _, tt := range tests {
		fsys, p, err := Resolve(tt.uri)
		if err == nil {
			t.Errorf("Resolve(%q) = %T, %q; want error", tt.uri, fsys, p)
			continue
		}
		if got := errors.Is(err, ErrUnsupportedScheme); got != tt.unsupported {
			t.Errorf("Resolve(%q): errors.Is(err, ErrUnsupportedScheme) = %v, want %v", tt.uri, got, tt.unsupported)
		}
		if err.Error() != tt.msg {
			t.Errorf("Resolve(%q) error:\n got %s\nwant %s", tt.uri, err, tt.msg)
		}
	}
}

func TestURI(t *testing.T) {
	if got := URI(Local{}, "/a/b"); got != "/a/b" {
		t.Errorf("URI(Local, /a/b) = %q", got)
	}
	if got := URI(&HDFS{uri: "hdfs://nn:8020"}, "/a/b"); got != "hdfs://nn:8020/a/b" {
		t.Errorf("URI(HDFS, /a/b) = %q", got)
	}
}

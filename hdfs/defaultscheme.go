package hdfs

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// defaultScheme is fs.default-scheme: what Resolve does with a path that has
// no scheme. Empty is the local filesystem.
var defaultScheme struct {
	mu  sync.Mutex
	uri string // "" (local) or a clean "hdfs://authority" ("hdfs://" for fs.defaultFS)
}

// SetDefaultScheme sets what Resolve does with a path without a scheme, from
// fs.default-scheme (Flink's key): "" or "file:///" keeps it local, relative
// to the working directory; "hdfs:///" resolves it against fs.defaultFS of
// the Hadoop configuration, and "hdfs://authority/" against that NameNode or
// nameservice. On HDFS an absolute path is taken as it is and a relative one
// is relative to the user's home directory, /user/NAME, as in Hadoop's
// FileSystem. The command that loaded Spate's configuration calls it at
// start-up, before the first path is resolved.
func SetDefaultScheme(uri string) error {
	norm, err := parseDefaultScheme(uri)
	if err != nil {
		return err
	}
	defaultScheme.mu.Lock()
	defaultScheme.uri = norm
	defaultScheme.mu.Unlock()
	return nil
}

func parseDefaultScheme(uri string) (string, error) {
	if uri == "" {
		return "", nil
	}
	scheme, rest, ok := splitScheme(uri)
	if ok && strings.EqualFold(scheme, "file") && strings.TrimRight(rest, "/") == "" {
		return "", nil
	}
	if ok && strings.EqualFold(scheme, "hdfs") {
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			authority, p, _ := strings.Cut(after, "/")
			if strings.Trim(p, "/") == "" {
				return "hdfs://" + strings.ToLower(authority), nil
			}
		}
	}
	return "", fmt.Errorf("fs.default-scheme %q must be file:///, hdfs:/// (the NameNodes of fs.defaultFS) or hdfs://namenode:port/ (no path)", uri)
}

// resolveSchemeless resolves a path without a scheme against the default
// scheme.
func resolveSchemeless(p string) (FileSystem, string, error) {
	defaultScheme.mu.Lock()
	base := defaultScheme.uri
	defaultScheme.mu.Unlock()
	if base == "" {
		return Local{}, filepath.Clean(p), nil
	}
	if strings.HasPrefix(p, "/") {
		return defaultHadoopClients().Resolve(base + path.Clean(p))
	}
	fsys, _, err := defaultHadoopClients().Resolve(base + "/")
	if err != nil {
		return nil, "", fmt.Errorf("relative path %q (fs.default-scheme %s/): %w", p, base, err)
	}
	home := "/user/" + fsys.(*HDFS).User()
	return fsys, path.Join(home, p), nil
}

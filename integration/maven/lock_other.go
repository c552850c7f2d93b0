//go:build !unix

package maven

// lockFile does nothing where flock does not exist: run one test binary at a
// time there.
func lockFile(string) (func(), error) { return func() {}, nil }

package hdfs

import "os"

// Chmod sets the permission bits of p (spate yarn-submit makes its staging
// directory 0700, as Flink and Spark do, since it holds the keytab).
func (f *HDFS) Chmod(p string, mode os.FileMode) error {
	return f.wrap(f.client.Chmod(p, mode))
}

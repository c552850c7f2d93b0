// Package hadooptest starts Spate's test Hadoop — a KDC, HDFS and YARN from
// Hadoop's own artifacts (integration/hadoop) — as a child process for Go
// tests, and says where its configuration, keytabs and addresses are.
//
// # Model
//
// A test binary starts each cluster it needs once, from TestMain, and shares
// it between its tests; the cluster dies with the binary:
//
//	var secure = &hadooptest.Shared{Options: hadooptest.Options{Secure: true}}
//
//	func TestMain(m *testing.M) {
//		secure.Prestart() // optional: start while other tests run
//		code := m.Run()
//		secure.Stop()
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) {
//		c := secure.Get(t) // skips when neither java nor mvn is on PATH
//		... c.ConfDir, c.Krb5Conf, c.ClientKeytab, c.ClientPrincipal, c.DefaultFS
//	}
//
// Start builds the launcher with Maven the first time (about 114 MB of jars
// into ~/.m2; later builds are skipped while target/cp.txt is newer than the
// module's sources), runs it with lean JVM flags, and waits for its one ready
// line. The launcher's log is Dir/launcher.log.
//
// Cluster.Control sends the launcher a control command (StopDataNode,
// DeadDataNode, RestartDataNode), and Cluster.HadoopFS runs Hadoop's own
// shell ("hadoop fs") against the cluster, to read back what Spate wrote
// through Hadoop's client.
//
// # Lifetime
//
// The child's standard input is a pipe that this process holds open: the
// launcher exits when it reads EOF, which happens however this process ends,
// even by SIGKILL. On Linux it also gets SIGTERM when its parent dies
// (Pdeathsig). Stop closes the pipe, sends SIGTERM and waits, bounded.
//
// # Skips
//
// Start returns ErrNoJava only when neither java nor mvn is on PATH; a test
// may skip on that, saying why (Shared.Get does). Every other failure is an
// error: CI, which has Java and Maven, never skips these tests.
package hadooptest

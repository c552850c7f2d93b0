package hdfs

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiagnoseWithoutCluster: no configuration is one failed check saying
// what to set; a NameNode that does not answer fails its check and skips
// what needs it, and a missing yarn-site.xml is skipped.
func TestDiagnoseWithoutCluster(t *testing.T) {
	checks := Diagnose(DiagnoseOptions{Hadoop: HadoopOptions{Getenv: func(string) string { return "" }}})
	if len(checks) != 1 || checks[0].Status != CheckFail || !strings.Contains(checks[0].Detail, "set HADOOP_CONF_DIR") {
		t.Fatalf("no configuration: %+v", checks)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	core := "<configuration><property><name>fs.defaultFS</name><value>hdfs://" + dead + "</value></property></configuration>"
	if err := os.WriteFile(filepath.Join(dir, "core-site.xml"), []byte(core), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HADOOP_CONF_DIR": dir}
	checks = Diagnose(DiagnoseOptions{Hadoop: HadoopOptions{Getenv: func(k string) string { return env[k] }}})
	var got []string
	for _, c := range checks {
		got = append(got, string(c.Status)+" "+c.Name)
	}
	want := "ok hadoop configuration|FAIL fs.defaultFS|skip kerberos|skip hdfs home|skip yarn resourcemanager"
	if strings.Join(got, "|") != want {
		t.Fatalf("checks %q, want %q", strings.Join(got, "|"), want)
	}
	if d := checks[1].Detail; !strings.Contains(d, dead) || !strings.Contains(d, "connection refused") || !strings.Contains(d, "check fs.defaultFS in") {
		t.Fatalf("fs.defaultFS detail: %s", d)
	}
}

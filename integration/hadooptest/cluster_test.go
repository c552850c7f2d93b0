package hadooptest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseReady(t *testing.T) {
	line := ReadyPrefix + "dir=/d conf=/d/conf secure=true realm=SPATE.TEST kdc=localhost:1 krb5=/d/conf/krb5.conf " +
		"principal=spate@SPATE.TEST keytab=/d/keytabs/spate.keytab other.principal=intruder@SPATE.TEST " +
		"other.keytab=/d/keytabs/intruder.keytab service.principal=root/localhost@SPATE.TEST ccache=/d/krb5cc_spate " +
		"fs.defaultFS=hdfs://localhost:2 rm=localhost:3 startup.ms=7507"
	c := &Cluster{Secure: true}
	if err := c.parseReady(line); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%v", c.ConfDir, c.DefaultFS, c.RMAddress, c.Realm, c.Krb5Conf,
		c.ClientPrincipal, c.ClientKeytab, c.TicketCache, c.OtherPrincipal, c.OtherKeytab, c.ServicePrincipal, c.User, c.LauncherStartup)
	want := "/d/conf|hdfs://localhost:2|localhost:3|SPATE.TEST|/d/conf/krb5.conf|spate@SPATE.TEST|/d/keytabs/spate.keytab|" +
		"/d/krb5cc_spate|intruder@SPATE.TEST|/d/keytabs/intruder.keytab|root/localhost@SPATE.TEST|spate|7.507s"
	if got != want {
		t.Fatalf("parsed\n %s\nwant\n %s", got, want)
	}
	err := (&Cluster{Secure: true}).parseReady(ReadyPrefix + "conf=/d fs.defaultFS=hdfs://x:1 rm=x:2")
	if err == nil || !strings.Contains(err.Error(), "lacks realm, krb5, principal, keytab") {
		t.Fatalf("a secure line without Kerberos fields: %v", err)
	}
}

// TestStartStop starts an insecure cluster with two DataNodes, checks what
// it wrote, stops and restarts a DataNode, lists through Hadoop's own shell,
// and checks that Stop ends the process and removes the directory.
func TestStartStop(t *testing.T) {
	c, err := Start(Options{DataNodes: 2})
	if errors.Is(err, ErrNoJava) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready %v after exec (launcher %v); maven %v", c.StartupTime, c.LauncherStartup, BuildTime)
	for _, f := range []string{"core-site.xml", "hdfs-site.xml", "yarn-site.xml"} {
		b, err := os.ReadFile(filepath.Join(c.ConfDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "core-site.xml" && !strings.Contains(string(b), "<value>"+c.DefaultFS+"</value>") {
			t.Errorf("core-site.xml does not set fs.defaultFS %s:\n%s", c.DefaultFS, b)
		}
	}
	if c.Secure || c.User != "spate" || !strings.HasPrefix(c.DefaultFS, "hdfs://localhost:") || c.RMAddress == "" {
		t.Errorf("cluster = %+v", c)
	}
	for _, tc := range []struct{ command, err string }{
		{"dead-datanode 1", "hadoop launcher: dead-datanode 1: DataNode 1 is not stopped"},
		{"stop-datanode 1", ""},
		{"stop-datanode 1", "hadoop launcher: stop-datanode 1: DataNode 1 is stopped already"},
		{"dead-datanode 1", ""},
		{"restart-datanode 0", "hadoop launcher: restart-datanode 0: DataNode 0 is not stopped"},
		{"stop-datanode 2", "hadoop launcher: stop-datanode 2: java.lang.IllegalArgumentException: there are 2 DataNodes, numbered from 0"},
		{"restart-datanode 1", ""},
		{"stop-datanode 1", ""}, // found again after its restart, whatever its place in MiniDFSCluster's list
		{"restart-datanode 1", ""},
		{"fly", "hadoop launcher: fly: unknown command (want stop-datanode I, dead-datanode I or restart-datanode I)"},
	} {
		err := c.Control(tc.command)
		if got := fmt.Sprint(err); tc.err == "" && err != nil || tc.err != "" && got != tc.err {
			t.Errorf("Control(%q) = %v, want %q", tc.command, err, tc.err)
		}
	}
	out, err := c.HadoopFS("-ls", "/user")
	if err != nil || !strings.Contains(string(out), "/user/spate") {
		t.Errorf("hadoop fs -ls /user: %q, %v", out, err)
	}
	pid := c.PID()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("launcher %d still runs after Stop", pid)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop left %s: %v", c.Dir, err)
	}
}

// TestLauncherDiesWithParent kills (SIGKILL) a process that started a
// cluster and checks that the launcher exits by itself.
func TestLauncherDiesWithParent(t *testing.T) {
	if os.Getenv("HADOOPTEST_HELPER") == "1" {
		c, err := Start(Options{Dir: os.Getenv("HADOOPTEST_DIR")})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Println("PID", c.PID())
		time.Sleep(time.Hour) // until killed
	}
	if _, err := Build(); err != nil {
		if lookPath("java") == "" && lookPath("mvn") == "" {
			t.Skipf("skipping: %v", ErrNoJava)
		}
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLauncherDiesWithParent$")
	cmd.Env = append(os.Environ(), "HADOOPTEST_HELPER=1", "HADOOPTEST_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	pid := 0
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
		if strings.HasPrefix(sc.Text(), "ERROR") {
			t.Fatal(sc.Text())
		}
	}
	if pid == 0 {
		t.Fatal("the helper printed no launcher pid")
	}
	cmd.Process.Kill()
	cmd.Wait()
	t0 := time.Now()
	for syscall.Kill(pid, 0) == nil {
		if time.Since(t0) > 30*time.Second {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("launcher %d still runs 30 s after its parent was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("launcher exited %v after its parent was killed", time.Since(t0).Round(time.Millisecond))
}

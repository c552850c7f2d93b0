package security

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spate-io/spate/integration/hadooptest"
)

// javaCreds runs testdata/CredsTool.java with Hadoop 3.5.0's jars.
func javaCreds(t *testing.T, args ...string) string {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("skipping: java is not on PATH")
	}
	cp, err := hadooptest.Build()
	if errors.Is(err, hadooptest.ErrNoJava) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, append([]string{"-cp", cp, filepath.Join("testdata", "CredsTool.java")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("CredsTool %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// describe prints credentials as CredsTool does.
func describe(c *Credentials) string {
	var lines []string
	for a, tk := range c.Tokens {
		lines = append(lines, fmt.Sprintf("token %s %s %s %s %s", a, tk.Kind, tk.Service, hex.EncodeToString(tk.Identifier), hex.EncodeToString(tk.Password)))
	}
	for a, s := range c.Secrets {
		lines = append(lines, fmt.Sprintf("secret %s %s", a, hex.EncodeToString(s)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// Hadoop's Credentials reads what Go writes, and Go reads what it writes,
// in both versions (one JVM for all four).
func TestCredentialsInteroperateWithHadoop(t *testing.T) {
	want := describe(sampleCredentials())
	dir := t.TempDir()
	var args []string
	for _, v := range []int{CredentialsWritable, CredentialsProtobuf} {
		goFile := filepath.Join(dir, fmt.Sprintf("go%d.tokens", v))
		if err := sampleCredentials().WriteCredentialsFile(goFile, v); err != nil {
			t.Fatal(err)
		}
		args = append(args, "read:"+goFile, fmt.Sprintf("write%d:%s", v, filepath.Join(dir, fmt.Sprintf("java%d.tokens", v))))
	}
	out := javaCreds(t, args...)
	for _, v := range []int{CredentialsWritable, CredentialsProtobuf} {
		goFile := filepath.Join(dir, fmt.Sprintf("go%d.tokens", v))
		_, rest, _ := strings.Cut(out, "== "+goFile+"\n")
		got, _, _ := strings.Cut(rest, "== ")
		if got != want {
			t.Errorf("version %d: Hadoop read from Go's file\n%s\nwant\n%s", v, got, want)
		}
		c, err := ReadCredentialsFile(filepath.Join(dir, fmt.Sprintf("java%d.tokens", v)))
		if err != nil {
			t.Fatalf("version %d: read Hadoop's file: %v", v, err)
		}
		if got := describe(c); got != want {
			t.Errorf("version %d: Go read from Hadoop's file\n%s\nwant\n%s", v, got, want)
		}
	}
}

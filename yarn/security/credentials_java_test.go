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
// in both versions.
func TestCredentialsInteroperateWithHadoop(t *testing.T) {
	want := describe(sampleCredentials())
	for _, v := range []int{CredentialsWritable, CredentialsProtobuf} {
		dir := t.TempDir()
		goFile := filepath.Join(dir, "go.tokens")
		if err := sampleCredentials().WriteCredentialsFile(goFile, v); err != nil {
			t.Fatal(err)
		}
		if got := javaCreds(t, "read", goFile); got != want {
			t.Errorf("version %d: Hadoop read from Go's file\n%s\nwant\n%s", v, got, want)
		}
		javaFile := filepath.Join(dir, "java.tokens")
		javaCreds(t, "write", javaFile, fmt.Sprint(v))
		c, err := ReadCredentialsFile(javaFile)
		if err != nil {
			t.Fatalf("version %d: read Hadoop's file: %v", v, err)
		}
		if got := describe(c); got != want {
			t.Errorf("version %d: Go read from Hadoop's file\n%s\nwant\n%s", v, got, want)
		}
	}
}

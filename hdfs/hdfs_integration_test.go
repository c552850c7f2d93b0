package hdfs

// Tests of the hdfs:// FileSystem against real Hadoop: the launcher of
// integration/hadoop, secure (KDC + Kerberos) and insecure, each started once
// for this test binary and shared. They skip only when neither java nor mvn
// is on PATH.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/spate-io/spate/integration/hadooptest"
)

var (
	secureHadoop   = &hadooptest.Shared{Options: hadooptest.Options{Secure: true}}
	insecureHadoop = &hadooptest.Shared{Options: hadooptest.Options{Secure: false}}
)

func TestMain(m *testing.M) {
	flag.Parse()
	// A full run needs both clusters: start them together. A -run filter
	// starts only what its tests ask for.
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" && !testing.Short() {
		secureHadoop.Prestart()
		insecureHadoop.Prestart()
	}
	t0 := time.Now()
	code := m.Run()
	for name, s := range map[string]*hadooptest.Shared{"secure": secureHadoop, "insecure": insecureHadoop} {
		if c, ok := s.Started(); ok && os.Getenv("SPATE_HADOOP_TIMES") != "" {
			fmt.Fprintf(os.Stderr, "hadoop %s: ready %v after exec (launcher: %v); maven %v\n",
				name, c.StartupTime.Round(time.Millisecond), c.LauncherStartup, hadooptest.BuildTime.Round(time.Millisecond))
		}
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if os.Getenv("SPATE_HADOOP_TIMES") != "" {
		fmt.Fprintf(os.Stderr, "hdfs tests: %v\n", time.Since(t0).Round(time.Millisecond))
	}
	os.Exit(code)
}

// mode is one cluster under test.
type mode struct {
	name   string
	shared *hadooptest.Shared
}

var modes = []mode{{"secure", secureHadoop}, {"insecure", insecureHadoop}}

// envOf returns a Getenv that sees only the cluster's variables.
func envOf(c *hadooptest.Cluster, extra ...string) func(string) string {
	m := map[string]string{}
	for _, kv := range append(c.Env(), extra...) {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// clientOf returns a Hadoop logged in as the cluster's client principal from
// its keytab (secure) or as its user (insecure), with conf from confDir
// ("" for the cluster's own).
func clientOf(t *testing.T, c *hadooptest.Cluster, confDir string, login KerberosLogin, extraEnv ...string) *Hadoop {
	t.Helper()
	if confDir == "" {
		confDir = c.ConfDir
	}
	conf, err := LoadHadoopConf(confDir)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHadoop(HadoopOptions{Conf: conf, Login: login, Getenv: envOf(c, extraEnv...), DialTimeout: 10 * time.Second})
	t.Cleanup(func() { h.Close() })
	return h
}

func keytabLogin(c *hadooptest.Cluster) KerberosLogin {
	return KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.ClientKeytab}
}

// testFS returns the cluster's FileSystem and a fresh directory on it.
func testFS(t *testing.T, m mode) (*HDFS, string) {
	t.Helper()
	c := m.shared.Get(t)
	var login KerberosLogin
	if c.Secure {
		login = keytabLogin(c)
	}
	fsys, err := clientOf(t, c, "", login).FileSystem("")
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("/user/spate/%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	if err := fsys.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	return fsys, dir
}

func putFile(t *testing.T, fsys FileSystem, p string, data []byte) {
	t.Helper()
	w, err := fsys.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func getFile(t *testing.T, fsys FileSystem, p string) []byte {
	t.Helper()
	f, err := fsys.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func forEachMode(t *testing.T, fn func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { fn(t, m) })
	}
}

func TestHDFSWriteRead10MB(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		c := m.shared.Get(t)
		data := make([]byte, 10<<20)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		// 1 MiB blocks: ten block boundaries, where the NameNode most often
		// answers Close with "replication in progress".
		small := confWith(t, c, map[string]string{"dfs.blocksize": "1m"})
		for _, tc := range []struct{ name, conf string }{{"128MiB-blocks", ""}, {"1MiB-blocks", small}} {
			t.Run(tc.name, func(t *testing.T) {
				var login KerberosLogin
				if c.Secure {
					login = keytabLogin(c)
				}
				fsys, err := clientOf(t, c, tc.conf, login).FileSystem("")
				if err != nil {
					t.Fatal(err)
				}
				dir := "/user/spate/" + strings.ReplaceAll(t.Name(), "/", "-")
				if err := fsys.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := fsys.MkdirAll(dir); err != nil {
					t.Fatal(err)
				}
				p := dir + "/big"
				w, err := fsys.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				for off := 0; off < len(data); off += 100_000 {
					if _, err := w.Write(data[off:min(off+100_000, len(data))]); err != nil {
						t.Fatal(err)
					}
					if off == 5_000_000 {
						if err := w.(interface{ Sync() error }).Sync(); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				fi, err := fsys.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size != int64(len(data)) || fi.IsDir || fi.Path != p || fi.Name != "big" {
					t.Fatalf("Stat = %+v, want a file of %d bytes at %s", fi, len(data), p)
				}
				if got := getFile(t, fsys, p); !bytes.Equal(got, data) {
					t.Fatalf("read back %d bytes, not the %d written", len(got), len(data))
				}
				f, err := fsys.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				buf := make([]byte, 4096)
				off := int64(3<<20 - 100) // across a 1 MiB block boundary
				if _, err := f.ReadAt(buf, off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf, data[off:off+4096]) {
					t.Fatal("ReadAt across a block boundary read other bytes")
				}
				if _, err := f.Seek(int64(len(data)-10), io.SeekStart); err != nil {
					t.Fatal(err)
				}
				tailBytes, err := io.ReadAll(f)
				if err != nil || !bytes.Equal(tailBytes, data[len(data)-10:]) {
					t.Fatalf("after Seek read %q, %v", tailBytes, err)
				}
			})
		}
	})
}

func TestHDFSReadDirSorted(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		for _, n := range []string{"b", "a", "c.txt", "B"} {
			putFile(t, fsys, dir+"/"+n, []byte(n))
		}
		if err := fsys.MkdirAll(dir + "/d/e"); err != nil {
			t.Fatal(err)
		}
		fis, err := fsys.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fi := range fis {
			got = append(got, fmt.Sprintf("%s:%s:%v:%d", fi.Name, strings.TrimPrefix(fi.Path, dir), fi.IsDir, map[bool]int64{true: -1, false: fi.Size}[fi.IsDir]))
		}
		want := []string{"B:/B:false:1", "a:/a:false:1", "b:/b:false:1", "c.txt:/c.txt:false:5", "d:/d:true:-1"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("ReadDir:\n got %v\nwant %v", got, want)
		}
		if _, err := fsys.ReadDir(dir + "/missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadDir of a missing directory: %v, want fs.ErrNotExist", err)
		}
	})
}

func TestHDFSMkdirAll(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		p := dir + "/x/y/z"
		for range 2 { // again: an existing directory is not an error
			if err := fsys.MkdirAll(p); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{dir + "/x", dir + "/x/y", p} {
			if fi, err := fsys.Stat(q); err != nil || !fi.IsDir {
				t.Fatalf("Stat(%s) = %+v, %v; want a directory", q, fi, err)
			}
		}
		putFile(t, fsys, dir+"/file", nil)
		if err := fsys.MkdirAll(dir + "/file"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("MkdirAll over a file: %v, want fs.ErrExist", err)
		}
	})
}

func TestHDFSRenameReplaces(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		putFile(t, fsys, dir+"/target", []byte("old contents"))
		putFile(t, fsys, dir+"/.target.tmp", []byte("new"))
		if err := fsys.Rename(dir+"/.target.tmp", dir+"/target"); err != nil {
			t.Fatal(err)
		}
		if got := getFile(t, fsys, dir+"/target"); string(got) != "new" {
			t.Fatalf("after Rename the target holds %q, want %q", got, "new")
		}
		if _, err := fsys.Stat(dir + "/.target.tmp"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("after Rename the source: %v, want fs.ErrNotExist", err)
		}
		// To a new name, and into a directory that does not exist.
		if err := fsys.Rename(dir+"/target", dir+"/moved"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Rename(dir+"/moved", dir+"/no/such/dir/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Rename into a missing directory: %v, want fs.ErrNotExist", err)
		}
		if err := fsys.Rename(dir+"/missing", dir+"/y"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Rename of a missing file: %v, want fs.ErrNotExist", err)
		}
	})
}

// TestHDFSRenameNoReplace: as Hadoop's rename, an existing target is
// refused and left as it was, and the source stays.
func TestHDFSRenameNoReplace(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		putFile(t, fsys, dir+"/_metadata", []byte("published"))
		putFile(t, fsys, dir+"/._metadata.inprogress", []byte("late"))
		if err := RenameNoReplace(fsys, dir+"/._metadata.inprogress", dir+"/_metadata"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("RenameNoReplace onto an existing file: %v, want fs.ErrExist", err)
		}
		if got := getFile(t, fsys, dir+"/_metadata"); string(got) != "published" {
			t.Fatalf("the target holds %q after a refused rename", got)
		}
		if err := RenameNoReplace(fsys, dir+"/._metadata.inprogress", dir+"/other"); err != nil {
			t.Fatal(err)
		}
		if got := getFile(t, fsys, dir+"/other"); string(got) != "late" {
			t.Fatalf("renamed file holds %q", got)
		}
		if err := RenameNoReplace(fsys, dir+"/missing", dir+"/y"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("RenameNoReplace of a missing file: %v, want fs.ErrNotExist", err)
		}
	})
}

func TestHDFSCreateTruncates(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		putFile(t, fsys, dir+"/f", []byte("a longer first version"))
		putFile(t, fsys, dir+"/f", []byte("short"))
		if got := getFile(t, fsys, dir+"/f"); string(got) != "short" {
			t.Fatalf("after a second Create the file holds %q", got)
		}
		if _, err := fsys.Create(dir + "/missing/f"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Create in a missing directory: %v, want fs.ErrNotExist", err)
		}
		if _, err := fsys.Create(dir); !errors.Is(err, syscall.EISDIR) {
			t.Fatalf("Create over a directory: %v, want EISDIR", err)
		}
	})
}

func TestHDFSCreateExclusive(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		p := dir + "/lease"
		w, err := CreateExclusive(fsys, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("owner")); err != nil {
			t.Fatal(err)
		}
		// While the first writer still has the file open, and after it closed.
		if _, err := CreateExclusive(fsys, p); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("CreateExclusive of a file being written: %v, want fs.ErrExist", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = CreateExclusive(fsys, p)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("CreateExclusive of an existing file: %v, want fs.ErrExist", err)
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), fsys.URI()) {
			t.Errorf("error %q does not name the cluster and the path", err)
		}
		if got := getFile(t, fsys, p); string(got) != "owner" {
			t.Fatalf("the refused create changed the file to %q", got)
		}

		// Racing creators: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, exists := 0, 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := fsys.CreateExclusive(dir + "/race")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					w.Close()
				case errors.Is(err, fs.ErrExist):
					exists++
				default:
					t.Errorf("racing CreateExclusive: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || exists != 3 {
			t.Fatalf("racing CreateExclusive: %d won, %d refused; want 1 and 3", wins, exists)
		}
	})
}

func TestHDFSRemove(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		putFile(t, fsys, dir+"/f", []byte("x"))
		if err := fsys.MkdirAll(dir + "/empty"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.MkdirAll(dir + "/tree/a"); err != nil {
			t.Fatal(err)
		}
		putFile(t, fsys, dir+"/tree/a/b", []byte("x"))
		if err := fsys.Remove(dir + "/f"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Remove(dir + "/empty"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Remove(dir + "/f"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Remove of a missing file: %v, want fs.ErrNotExist", err)
		}
		if err := fsys.Remove(dir + "/tree"); !errors.Is(err, syscall.ENOTEMPTY) {
			t.Fatalf("Remove of a non-empty directory: %v, want ENOTEMPTY", err)
		}
		if err := fsys.RemoveAll(dir + "/tree"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(dir + "/tree"); err != nil {
			t.Fatalf("RemoveAll of a missing path: %v, want nil", err)
		}
		fis, err := fsys.ReadDir(dir)
		if err != nil || len(fis) != 0 {
			t.Fatalf("ReadDir after removing everything: %v, %v", fis, err)
		}
	})
}

func TestHDFSStatMissing(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		fsys, dir := testFS(t, m)
		_, err := fsys.Stat(dir + "/missing")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat of a missing path: %v, want fs.ErrNotExist", err)
		}
		want := fmt.Sprintf("%s: stat %s/missing: file does not exist", fsys.URI(), dir)
		if err.Error() != want {
			t.Fatalf("Stat error:\n got %s\nwant %s", err, want)
		}
		if _, err := fsys.Open(dir + "/missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of a missing path: %v, want fs.ErrNotExist", err)
		}
	})
}

// TestHDFSResolve goes through the package's Resolve, configured from the
// environment only: HADOOP_CONF_DIR, and for the secure cluster the ticket
// cache (KRB5CCNAME) the launcher wrote, with no keytab.
func TestHDFSResolve(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		c := m.shared.Get(t)
		for _, kv := range c.Env() {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		if c.Secure && c.TicketCache == "" {
			t.Fatal("the launcher wrote no ticket cache")
		}
		resetDefaultHadoop() // a fresh default set of clients, from this environment
		t.Cleanup(func() { defaultHadoopClients().Close(); resetDefaultHadoop() })
		dir := fmt.Sprintf("/user/spate/resolve-%d", time.Now().UnixNano())
		for _, uri := range []string{c.DefaultFS + dir + "/a", "hdfs://" + dir + "/b", "hdfs:" + dir + "/c"} {
			fsys, p, err := Resolve(uri)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", uri, err)
			}
			if err := fsys.MkdirAll(filepath.Dir(p)); err != nil {
				t.Fatal(err)
			}
			putFile(t, fsys, p, []byte(uri))
			if got := getFile(t, fsys, p); string(got) != uri {
				t.Fatalf("%s holds %q", uri, got)
			}
		}
		fsys, _, _ := Resolve(c.DefaultFS + "/")
		fis, err := fsys.ReadDir(dir)
		if err != nil || len(fis) != 3 {
			t.Fatalf("ReadDir(%s) = %v, %v; want a, b and c", dir, fis, err)
		}
		h, ok := fsys.(*HDFS)
		if !ok {
			t.Fatalf("Resolve gave a %T, want *HDFS", fsys)
		}
		if h.Secure() != c.Secure || h.User() != "spate" {
			t.Fatalf("the client is secure %v, user %q; want secure %v, user spate", h.Secure(), h.User(), c.Secure)
		}
	})
}

// fakeKeytab writes a keytab for principal whose keys the KDC never issued.
func fakeKeytab(t *testing.T, principal string) string {
	t.Helper()
	name, realm, _ := strings.Cut(principal, "@")
	kt := keytab.New()
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96} {
		if err := kt.AddEntry(name, realm, "not-the-password", time.Now(), 1, et); err != nil {
			t.Fatal(err)
		}
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), strings.NewReplacer("/", "_", "@", "_").Replace(principal)+".keytab")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// confWith copies the cluster's configuration into a new directory, with
// the given properties set in hdfs-site.xml.
func confWith(t *testing.T, c *hadooptest.Cluster, set map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"core-site.xml", "hdfs-site.xml"} {
		b, err := os.ReadFile(filepath.Join(c.ConfDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "hdfs-site.xml" {
			var extra strings.Builder
			for k, v := range set {
				fmt.Fprintf(&extra, "<property><name>%s</name><value>%s</value></property>\n", k, v)
			}
			b = bytes.Replace(b, []byte("</configuration>"), []byte(extra.String()+"</configuration>"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHDFSBadCredentials pins the one-line error for each wrong Kerberos
// setting a user meets, against the secure cluster's KDC.
func TestHDFSBadCredentials(t *testing.T) {
	c := secureHadoop.Get(t)
	realm := c.Realm
	nobody := "nobody@" + realm
	nobodyKeytab := fakeKeytab(t, nobody)
	staleKeytab := fakeKeytab(t, c.ClientPrincipal)
	otherRealm := "spate@OTHER.REALM"
	otherRealmKeytab := fakeKeytab(t, otherRealm)
	wrongSPN := confWith(t, c, map[string]string{"dfs.namenode.kerberos.principal": "nn/_HOST@" + realm})
	missingKrb5 := filepath.Join(t.TempDir(), "krb5.conf")
	missingCache := filepath.Join(t.TempDir(), "krb5cc_none")

	tests := []struct {
		name    string
		conf    string
		login   KerberosLogin
		env     []string
		problem KerberosProblem
		want    string
	}{
		{"keytab of another principal", "", KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.OtherKeytab}, nil,
			KerberosKeytabNoPrincipal,
			fmt.Sprintf("kerberos: keytab %s has no key for %s (it holds %s): set security.kerberos.login.principal to the keytab's principal, or use that principal's keytab",
				c.OtherKeytab, c.ClientPrincipal, c.OtherPrincipal)},
		{"unknown user", "", KerberosLogin{Principal: nobody, Keytab: nobodyKeytab}, nil,
			KerberosClientUnknown,
			fmt.Sprintf("kerberos: the KDC of %s does not know the principal %s (KDC_ERR_C_PRINCIPAL_UNKNOWN): correct security.kerberos.login.principal", realm, nobody)},
		{"keytab from another KDC", "", KerberosLogin{Principal: c.ClientPrincipal, Keytab: staleKeytab}, nil,
			KerberosKeyRejected,
			fmt.Sprintf("kerberos: the KDC rejected the key of %s in keytab %s (KDC_ERR_PREAUTH_FAILED): the keytab is from another KDC or the principal's key changed since: export a fresh keytab", c.ClientPrincipal, staleKeytab)},
		{"wrong realm", "", KerberosLogin{Principal: otherRealm, Keytab: otherRealmKeytab}, nil,
			KerberosRealmUnknown,
			fmt.Sprintf("kerberos: no KDC for realm OTHER.REALM in %s: correct the realm of %s, or add OTHER.REALM to [realms] there", c.Krb5Conf, otherRealm)},
		{"missing krb5.conf", "", keytabLogin(c), []string{"KRB5_CONFIG=" + missingKrb5},
			KerberosConfigMissing,
			fmt.Sprintf("kerberos: Kerberos configuration %s (KRB5_CONFIG): no such file: set KRB5_CONFIG to the cluster's krb5.conf", missingKrb5)},
		{"wrong service principal", wrongSPN, keytabLogin(c), nil,
			KerberosServiceUnknown,
			fmt.Sprintf("kerberos: the KDC does not know the NameNode's principal nn/localhost (KDC_ERR_S_PRINCIPAL_UNKNOWN): set dfs.namenode.kerberos.principal in %s to the NameNode's principal (nn/_HOST@REALM takes the host from the hdfs:// URI, so use the NameNode's host name there)", wrongSPN)},
		{"no ticket", "", KerberosLogin{}, []string{"KRB5CCNAME=FILE:" + missingCache},
			KerberosTicketCacheUnusable,
			fmt.Sprintf("kerberos: no Kerberos ticket: the ticket cache %s does not exist: run kinit, or set security.kerberos.login.keytab and security.kerberos.login.principal", missingCache)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := clientOf(t, c, tt.conf, tt.login, tt.env...).FileSystem("")
			if err == nil {
				t.Fatal("connected; want an error")
			}
			t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
			var ke *KerberosError
			if !errors.As(err, &ke) {
				t.Fatalf("error %q is not a *KerberosError", err)
			}
			if ke.Problem != tt.problem {
				t.Errorf("Problem = %d, want %d", ke.Problem, tt.problem)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestHDFSSimpleAgainstSecure: a client configured without Kerberos against
// the secure NameNode fails, with an error that says what to change.
func TestHDFSSimpleAgainstSecure(t *testing.T) {
	c := secureHadoop.Get(t)
	dir := t.TempDir()
	core := fmt.Sprintf("<configuration><property><name>fs.defaultFS</name><value>%s</value></property></configuration>", c.DefaultFS)
	if err := os.WriteFile(filepath.Join(dir, "core-site.xml"), []byte(core), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fsys, err := clientOf(t, c, dir, KerberosLogin{}).FileSystem("")
	if err == nil {
		_, err = fsys.Stat("/")
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil {
		t.Fatal("a simple-auth client reached the secure NameNode")
	}
	want := fmt.Sprintf("%s: the NameNode %s did not accept this client (stat /: unexpected sequence number): if the cluster is secure, set hadoop.security.authentication=kerberos in %s, with dfs.namenode.kerberos.principal and a Kerberos login",
		c.DefaultFS, strings.TrimPrefix(c.DefaultFS, "hdfs://"), dir)
	if err.Error() != want {
		t.Fatalf("error:\n got %s\nwant %s", err, want)
	}
}

// TestHDFSNameNodeUnreachable: a NameNode that is not there is retried as
// ipc.client.connect.max.retries says, then fails with the dial error and
// the count.
func TestHDFSNameNodeUnreachable(t *testing.T) {
	c := insecureHadoop.Get(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	dir := confWith(t, c, map[string]string{"ipc.client.connect.max.retries": "2", "ipc.client.connect.retry.interval": "200"})
	start := time.Now()
	_, err = clientOf(t, c, dir, KerberosLogin{}).FileSystem(addr)
	took := time.Since(start)
	if !errors.Is(err, ErrNameNodeUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("FileSystem(%s): %v; want ErrNameNodeUnreachable and ECONNREFUSED", addr, err)
	}
	if !strings.Contains(err.Error(), "(3 attempts in ") || !strings.Contains(err.Error(), "ipc.client.connect.max.retries=2)") {
		t.Fatalf("the error does not say how often it tried: %v", err)
	}
	if took < 400*time.Millisecond || took > 5*time.Second {
		t.Fatalf("3 attempts 200 ms apart took %v", took)
	}
	t.Log(err)
}

// TestHDFSDataTransferPrivacyRefused: the library writes but cannot read
// under integrity or privacy, so the client refuses before connecting.
func TestHDFSDataTransferPrivacyRefused(t *testing.T) {
	c := secureHadoop.Get(t)
	dir := confWith(t, c, map[string]string{"dfs.data.transfer.protection": "privacy"})
	_, err := clientOf(t, c, dir, keytabLogin(c)).FileSystem("")
	if !errors.Is(err, ErrDataTransferProtection) {
		t.Fatalf("FileSystem with privacy: %v, want ErrDataTransferProtection", err)
	}
	t.Log(err)
}

// resetDefaultHadoop gives Resolve a fresh set of clients, reading the
// environment again (SetKerberosLogin keeps them while the login is the same).
func resetDefaultHadoop() {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	defaultHadoop = NewHadoop(HadoopOptions{})
}

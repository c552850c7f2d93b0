package hdfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

func mustParse(t *testing.T, doc string) *HadoopConf {
	t.Helper()
	c, err := ParseHadoopConf("test.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func site(props ...string) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<configuration>\n")
	for i := 0; i+1 < len(props); i += 2 {
		fmt.Fprintf(&b, "  <property><name>%s</name><value>%s</value></property>\n", props[i], props[i+1])
	}
	b.WriteString("</configuration>\n")
	return b.String()
}

func TestParseHadoopConf(t *testing.T) {
	c := mustParse(t, `<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<!-- a comment -->
<configuration>
  <property>
    <name> fs.defaultFS </name>
    <value>
      hdfs://nn:8020
    </value>
    <description>trimmed, as Hadoop does</description>
  </property>
  <property><name>fs.default.name</name><value>hdfs://old:8020</value></property>
  <property name="attr.key" value="attr value"/>
  <property><name>amp</name><value>a&amp;b&lt;c</value></property>
  <property><name>empty</name><value></value></property>
  <property><name>dup</name><value>first</value></property>
  <property><name>dup</name><value>second</value></property>
</configuration>`)
	tests := []struct {
		key, want string
		set       bool
	}{
		// fs.default.name is the deprecated name of fs.defaultFS: the later one wins.
		{"fs.defaultFS", "hdfs://old:8020", true},
		{"attr.key", "attr value", true},
		{"amp", "a&b<c", true},
		{"empty", "", true},
		{"dup", "second", true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		got, ok := c.Lookup(tt.key)
		if got != tt.want || ok != tt.set {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.set)
		}
	}
}

func TestHadoopConfFinalAndOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("core-site.xml", `<configuration>
  <property><name>locked</name><value>core</value><final>true</final></property>
  <property><name>open</name><value>core</value></property>
</configuration>`)
	write("hdfs-site.xml", site("locked", "hdfs", "open", "hdfs"))
	write("yarn-site.xml", site("yarn.only", "x")) // not an HDFS client file
	c, err := LoadHadoopConf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("locked"); got != "core" {
		t.Errorf("a final property was overridden: %q", got)
	}
	if got := c.Get("open"); got != "hdfs" {
		t.Errorf("hdfs-site.xml did not override core-site.xml: %q", got)
	}
	if _, ok := c.Lookup("yarn.only"); ok {
		t.Error("yarn-site.xml was read")
	}
	want := []string{filepath.Join(dir, "core-site.xml"), filepath.Join(dir, "hdfs-site.xml")}
	if !slices.Equal(c.Files, want) || c.Dir != dir {
		t.Errorf("Files = %v, Dir = %q; want %v, %q", c.Files, c.Dir, want, dir)
	}
}

func TestHadoopConfSubstitution(t *testing.T) {
	t.Setenv("SPATE_TEST_HOME", "/home/spate")
	c := mustParse(t, site(
		"base", "/data",
		"dir", "${base}/dfs",
		"nested", "${dir}/name",
		"env", "${env.SPATE_TEST_HOME}/x",
		"unknown", "${nope}/x",
		"partly", "${base}/${nope}/${base}",
		"self", "a${self}",
		"brace", "}{${base}}",
		"inner", "${${base}}",
	))
	tests := map[string]string{
		"dir":     "/data/dfs",
		"nested":  "/data/dfs/name",
		"env":     "/home/spate/x",
		"unknown": "${nope}/x",
		// Like Hadoop: stop at the first reference that does not resolve.
		"partly": "/data/${nope}/${base}",
		// A reference to itself stops after maxSubstitutions.
		"self":  strings.Repeat("a", maxSubstitutions+1) + "${self}",
		"brace": "}{/data}",
		"inner": "${/data}",
	}
	for k, want := range tests {
		if got := c.Get(k); got != want {
			t.Errorf("Get(%q) = %q, want %q", k, got, want)
		}
	}
}

func TestParseHadoopConfErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"<configuration><property><name>a</name>", "parse hadoop configuration test.xml: XML syntax error on line 1: unexpected EOF"},
		{"<other/>", "parse hadoop configuration test.xml: expected element type <configuration> but have <other>"},
		{"<configuration><property><value>v</value></property></configuration>", "parse hadoop configuration test.xml: property 1 has no <name>"},
		{`<configuration xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="more.xml"/></configuration>`,
			`parse hadoop configuration test.xml: <xi:include href="more.xml"> is not supported: inline the included properties`},
	}
	for _, tt := range tests {
		_, err := ParseHadoopConf("test.xml", []byte(tt.doc))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseHadoopConf(%q):\n got %v\nwant %s", tt.doc, err, tt.want)
		}
	}
}

func TestHadoopConfValues(t *testing.T) {
	c := mustParse(t, site("b1", "TRUE", "b2", "no", "s1", "128m", "s2", "1G", "s3", "4096", "s4", "1.5m", "i1", " 3 ", "i2", "x"))
	if !c.Bool("b1", false) || !c.Bool("b2", true) || c.Bool("missing", false) {
		t.Error("Bool: want true, the default for a non-boolean, and the default when unset")
	}
	for k, want := range map[string]int64{"s1": 128 << 20, "s2": 1 << 30, "s3": 4096, "missing": 7} {
		if got, err := c.Bytes(k, 7); err != nil || got != want {
			t.Errorf("Bytes(%q) = %d, %v; want %d", k, got, err, want)
		}
	}
	if _, err := c.Bytes("s4", 0); err == nil || err.Error() != `s4="1.5m" in the Hadoop configuration (no HADOOP_CONF_DIR, YARN_CONF_DIR or HADOOP_HOME is set): not a size: use bytes or a number with k, m, g, t, p or e` {
		t.Errorf("Bytes(s4): %v", err)
	}
	if n, err := c.Int("i1", 0); n != 3 || err != nil {
		t.Errorf("Int(i1) = %d, %v", n, err)
	}
	if _, err := c.Int("i2", 0); err == nil {
		t.Error("Int(i2): want an error")
	}
}

func TestHadoopConfDir(t *testing.T) {
	tests := []struct {
		env       map[string]string
		dir, from string
	}{
		{map[string]string{"HADOOP_CONF_DIR": "/a", "YARN_CONF_DIR": "/b", "HADOOP_HOME": "/h"}, "/a", "HADOOP_CONF_DIR"},
		{map[string]string{"YARN_CONF_DIR": "/b", "HADOOP_HOME": "/h"}, "/b", "YARN_CONF_DIR"},
		{map[string]string{"HADOOP_HOME": "/h"}, "/h/etc/hadoop", "HADOOP_HOME"},
		{map[string]string{}, "", ""},
	}
	for _, tt := range tests {
		dir, from := HadoopConfDir(func(k string) string { return tt.env[k] })
		if dir != tt.dir || from != tt.from {
			t.Errorf("HadoopConfDir(%v) = %q, %q; want %q, %q", tt.env, dir, from, tt.dir, tt.from)
		}
	}
	t.Setenv("HADOOP_CONF_DIR", "/nonexistent/conf")
	_, err := LoadHadoopConfFromEnv()
	if err == nil || err.Error() != "hadoop configuration directory /nonexistent/conf (from HADOOP_CONF_DIR): stat /nonexistent/conf: no such file or directory" {
		t.Errorf("LoadHadoopConfFromEnv: %v", err)
	}
}

func TestNameNodes(t *testing.T) {
	ha := mustParse(t, site(
		"fs.defaultFS", "hdfs://prod",
		"dfs.nameservices", "prod, single",
		"dfs.ha.namenodes.prod", "nn1,nn2",
		"dfs.namenode.rpc-address.prod.nn1", "nn1.example.com:8020",
		"dfs.namenode.rpc-address.prod.nn2", "nn2.example.com:8020",
		"dfs.namenode.rpc-address.single", "single.example.com:9000",
		"dfs.ha.namenodes.broken", "a",
		"dfs.namenode.rpc-address.other.nn1", "other:1", // a nameservice of another cluster: not ours
	))
	ha.Dir = "/etc/hadoop/conf"
	tests := []struct {
		conf      *HadoopConf
		authority string
		want      []string
		err       string
	}{
		{ha, "", []string{"nn1.example.com:8020", "nn2.example.com:8020"}, ""},
		{ha, "prod", []string{"nn1.example.com:8020", "nn2.example.com:8020"}, ""},
		{ha, "single", []string{"single.example.com:9000"}, ""},
		{ha, "host", []string{"host:8020"}, ""},
		{ha, "host:9000", []string{"host:9000"}, ""},
		{ha, "[::1]:9000", []string{"[::1]:9000"}, ""},
		{ha, "[::1]", []string{"[::1]:8020"}, ""},
		{ha, "broken", nil, `nameservice "broken" in /etc/hadoop/conf: dfs.namenode.rpc-address.broken.a is not set (dfs.ha.namenodes.broken lists "a")`},
		{ha, "user@host", nil, `hdfs authority "user@host": want host, host:port or a nameservice`},
		{ha, "host:", nil, `hdfs authority "host:": want host, host:port or a nameservice`},
		{&HadoopConf{}, "", nil, "an hdfs:/// path names no NameNode, and there is no Hadoop configuration to take fs.defaultFS from: write hdfs://namenode:8020/path, or set HADOOP_CONF_DIR to the cluster's configuration"},
		{&HadoopConf{Dir: "/c", props: map[string]string{"fs.defaultFS": "file:///"}}, "", nil,
			`an hdfs:/// path names no NameNode, and fs.defaultFS in /c is "file:///", not hdfs://host: write hdfs://namenode:8020/path, or set HADOOP_CONF_DIR to the cluster's configuration`},
	}
	for _, tt := range tests {
		got, err := tt.conf.NameNodes(tt.authority)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("NameNodes(%q):\n got %v, %v\nwant error %s", tt.authority, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("NameNodes(%q) = %v, %v; want %v", tt.authority, got, err, tt.want)
		}
	}
}

func TestSplitHDFSURI(t *testing.T) {
	tests := []struct{ uri, authority, path, err string }{
		{"hdfs://nn:8020/a/b", "nn:8020", "/a/b", ""},
		{"HDFS://NN/a/../b/", "nn", "/b", ""},
		{"hdfs:///a", "", "/a", ""},
		{"hdfs:/a", "", "/a", ""},
		{"hdfs://nn", "nn", "/", ""},
		{"hdfs://nn/a?b#c", "nn", "/a?b#c", ""},
		{"hdfs:a", "", "", `hdfs URI "hdfs:a" is not absolute: use hdfs://namenode/absolute/path or hdfs:///absolute/path`},
	}
	for _, tt := range tests {
		a, p, err := splitHDFSURI(tt.uri)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitHDFSURI(%q): %v, want %s", tt.uri, err, tt.err)
			}
			continue
		}
		if err != nil || a != tt.authority || p != tt.path {
			t.Errorf("splitHDFSURI(%q) = %q, %q, %v; want %q, %q", tt.uri, a, p, err, tt.authority, tt.path)
		}
	}
}

func TestDataTransferProtection(t *testing.T) {
	tests := []struct {
		props []string
		want  string
		err   bool
	}{
		{nil, "", false},
		{[]string{"dfs.data.transfer.protection", "authentication"}, "authentication", false},
		{[]string{"dfs.data.transfer.protection", "privacy,authentication"}, "authentication", false},
		{[]string{"dfs.data.transfer.protection", "integrity"}, "", true},
		{[]string{"dfs.data.transfer.protection", "privacy"}, "", true},
		{[]string{"dfs.data.transfer.protection", "authentication", "dfs.encrypt.data.transfer", "true"}, "", true},
		{[]string{"dfs.data.transfer.protection", "secret"}, "", false},
	}
	for _, tt := range tests {
		got, err := dataTransferProtection(mustParse(t, site(tt.props...)))
		if got != tt.want || errors.Is(err, ErrDataTransferProtection) != tt.err {
			t.Errorf("dataTransferProtection(%v) = %q, %v; want %q, ErrDataTransferProtection %v", tt.props, got, err, tt.want, tt.err)
		}
	}
	_, err := dataTransferProtection(mustParse(t, site("dfs.data.transfer.protection", "secret")))
	if err == nil || errors.Is(err, ErrDataTransferProtection) {
		t.Errorf("an unknown level: %v, want a plain error", err)
	}
}

func TestReadWriteSettings(t *testing.T) {
	var f HDFS
	if err := f.readWriteSettings(mustParse(t, site("dfs.replication", "2", "dfs.blocksize", "64m", "fs.permissions.umask-mode", "027"))); err != nil {
		t.Fatal(err)
	}
	if f.replication != 2 || f.blockSize != 64<<20 || f.fileMode != 0o640 || f.dirMode != 0o750 {
		t.Errorf("settings = %d %d %o %o", f.replication, f.blockSize, f.fileMode, f.dirMode)
	}
	if err := f.readWriteSettings(mustParse(t, site())); err != nil || f.replication != 3 || f.blockSize != 128<<20 || f.fileMode != 0o644 {
		t.Errorf("defaults = %d %d %o, %v", f.replication, f.blockSize, f.fileMode, err)
	}
	for _, bad := range [][]string{{"dfs.replication", "0"}, {"dfs.blocksize", "1k"}, {"fs.permissions.umask-mode", "u=rwx"}} {
		if err := f.readWriteSettings(mustParse(t, site(bad...))); err == nil {
			t.Errorf("readWriteSettings(%v): want an error", bad)
		}
	}
}

func TestPrincipalHost(t *testing.T) {
	for in, want := range map[string]string{
		"spate/_HOST@R": "spate/worker1.example.com@R",
		"_HOST@R":       "worker1.example.com@R",
		"a/_HOSTX@R":    "a/_HOSTX@R",
		"spate@R":       "spate@R",
	} {
		if got := replaceHost(in, "Worker1.Example.COM"); got != want {
			t.Errorf("replaceHost(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"nn/_HOST": "nn/Host1", "nn/x": "nn/x", "_HOST": "_HOST"} {
		if got := namenodeSPN(in, "Host1"); got != want {
			t.Errorf("namenodeSPN(%q) = %q, want %q", in, got, want)
		}
	}
}

// testKrb5Conf is a krb5.conf with one realm.
const testKrb5Conf = `[libdefaults]
    default_realm = SPATE.TEST
[realms]
    SPATE.TEST = {
        kdc = localhost:1
    }
`

func TestKerberosLoginLocalErrors(t *testing.T) {
	dir := t.TempDir()
	krb5 := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(krb5, []byte(testKrb5Conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadKrb5Conf(krb5, "KRB5_CONFIG")
	if err != nil {
		t.Fatal(err)
	}
	kt := keytab.New()
	if err := kt.AddEntry("other", "SPATE.TEST", "pw", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	b, _ := kt.Marshal()
	ktPath := filepath.Join(dir, "other.keytab")
	os.WriteFile(ktPath, b, 0o600)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte{5, 2, 0, 0, 0, 9, 1}, 0o600)
	expired := filepath.Join(dir, "cc")
	os.WriteFile(expired, []byte{5, 4}, 0o600) // a ticket cache too short to hold anything

	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		login   KerberosLogin
		getenv  func(string) string
		problem KerberosProblem
		want    string
	}{
		{"principal without keytab's key", KerberosLogin{Principal: "spate", Keytab: ktPath}, env(), KerberosKeytabNoPrincipal,
			"kerberos: keytab " + ktPath + " has no key for spate@SPATE.TEST (it holds other@SPATE.TEST): set security.kerberos.login.principal to the keytab's principal, or use that principal's keytab"},
		{"keytab without principal", KerberosLogin{Keytab: ktPath}, env(), KerberosNoLogin,
			"kerberos: security.kerberos.login.keytab is " + ktPath + " but security.kerberos.login.principal is not set: set it to the keytab's principal"},
		{"unreadable keytab", KerberosLogin{Principal: "other", Keytab: garbage}, env(), KerberosKeytabUnreadable, ""},
		{"missing keytab", KerberosLogin{Principal: "other", Keytab: filepath.Join(dir, "none")}, env(), KerberosKeytabUnreadable, ""},
		{"unknown realm", KerberosLogin{Principal: "other@ELSEWHERE", Keytab: ktPath}, env(), KerberosRealmUnknown,
			"kerberos: no KDC for realm ELSEWHERE in " + krb5 + ": correct the realm of other@ELSEWHERE, or add ELSEWHERE to [realms] there"},
		{"no ticket cache allowed", KerberosLogin{NoTicketCache: true}, env(), KerberosNoLogin, ""},
		{"keyring cache", KerberosLogin{}, env("KRB5CCNAME", "KEYRING:persistent:0"), KerberosTicketCacheUnusable,
			"kerberos: KRB5CCNAME=KEYRING:persistent:0: only FILE: ticket caches are supported, not KEYRING:: set KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u) and kinit again, or use a keytab"},
		{"malformed cache", KerberosLogin{}, env("KRB5CCNAME", "FILE:"+expired), KerberosTicketCacheUnusable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kerberosClient(tt.login, cfg, krb5, "host", tt.getenv)
			var ke *KerberosError
			if !errors.As(err, &ke) || ke.Problem != tt.problem {
				t.Fatalf("err = %v; want a KerberosError with problem %d", err, tt.problem)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
		})
	}

	_, err = loadKrb5Conf(filepath.Join(dir, "none.conf"), "KRB5_CONFIG")
	var ke *KerberosError
	if !errors.As(err, &ke) || ke.Problem != KerberosConfigMissing {
		t.Errorf("loadKrb5Conf of a missing file: %v", err)
	}
}

func TestKRB5ConfigPath(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "krb5.conf")
	os.WriteFile(exists, nil, 0o644)
	for _, tt := range []struct{ v, want string }{
		{"", "/etc/krb5.conf"},
		{"/none:" + exists, exists},
		{"/none:/also-none", "/none"},
	} {
		if got, _ := krb5ConfPath(func(string) string { return tt.v }); got != tt.want {
			t.Errorf("krb5ConfPath(%q) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestClassifyKDCError(t *testing.T) {
	for text, want := range map[string]KerberosProblem{
		"[Root cause: KDC_Error] KDC_Error: AS Exchange Error: kerberos error response from KDC: KRB Error: (6) KDC_ERR_C_PRINCIPAL_UNKNOWN Client not found in Kerberos database":  KerberosClientUnknown,
		"[Root cause: KDC_Error] KDC_Error: AS Exchange Error: kerberos error response from KDC: KRB Error: (24) KDC_ERR_PREAUTH_FAILED Pre-authentication information was invalid": KerberosKeyRejected,
		"[Root cause: Networking_Error] Networking_Error: AS Exchange Error: failed sending AS_REQ to KDC: failed to communicate with KDC localhost:1":                              KerberosKDCUnreachable,
		"something new": KerberosOther,
	} {
		err := classifyKDCError(errors.New(text), "p@R", "/k", "/krb5.conf", "R")
		var ke *KerberosError
		if !errors.As(err, &ke) || ke.Problem != want {
			t.Errorf("classifyKDCError(%q) = %v, want problem %d", text, err, want)
		}
	}
}

func FuzzParseHadoopConf(f *testing.F) {
	f.Add([]byte(site("fs.defaultFS", "hdfs://nn:8020", "a", "${fs.defaultFS}/x")))
	f.Add([]byte(`<configuration><property name="k" value="v" final="true"/><property><name>k</name><value>w</value></property></configuration>`))
	f.Add([]byte(site("self", "${self}${self}", "e", "${env.HOME}", "b", "}${")))
	f.Add([]byte(site("dfs.nameservices", "ns", "dfs.ha.namenodes.ns", "a,b", "dfs.namenode.rpc-address.ns.a", "h:1")))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseHadoopConf("fuzz.xml", b)
		if err != nil {
			return
		}
		// Every value expands in bounded time and size.
		for _, k := range c.Keys() {
			v := c.Get(k)
			if len(v) > (maxSubstitutions+1)*len(b)+1 {
				t.Fatalf("Get(%q) grew to %d bytes from a %d-byte file", k, len(v), len(b))
			}
		}
		c.NameNodes("")
		for ns := range c.nameservices() {
			c.NameNodes(ns)
		}
		// What was read writes back and reads again the same.
		var props []string
		for _, k := range c.Keys() {
			props = append(props, k, c.props[k])
		}
		var sb strings.Builder
		sb.WriteString("<configuration>")
		for i := 0; i < len(props); i += 2 {
			sb.WriteString("<property><name>" + xmlEscape(props[i]) + "</name><value>" + xmlEscape(props[i+1]) + "</value></property>")
		}
		sb.WriteString("</configuration>")
		c2, err := ParseHadoopConf("again.xml", []byte(sb.String()))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, sb.String())
		}
		for i := 0; i < len(props); i += 2 {
			k := props[i]
			if n, ok := deprecatedKeys[k]; ok {
				k = n
			}
			if got := c2.props[k]; got != props[i+1] {
				t.Fatalf("round trip of %q: %q, want %q", props[i], got, props[i+1])
			}
		}
	})
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

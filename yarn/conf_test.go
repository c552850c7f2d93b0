package yarn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSite(t *testing.T, dir, name string, props map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("<configuration>\n")
	for k, v := range props {
		b.WriteString("<property><name>" + k + "</name><value>" + v + "</value></property>\n")
	}
	b.WriteString("</configuration>\n")
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfLayersYarnSiteOverCoreSite(t *testing.T) {
	dir := t.TempDir()
	writeSite(t, dir, "core-site.xml", map[string]string{"hadoop.security.authentication": "kerberos", "x": "core", "hadoop.rpc.protection": "privacy, integrity"})
	writeSite(t, dir, "yarn-site.xml", map[string]string{"x": "yarn", "yarn.resourcemanager.hostname": "rm1"})
	c, err := LoadConf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("x") != "yarn" {
		t.Errorf("x = %q, want yarn-site's", c.Get("x"))
	}
	if s, err := c.Secure(); !s || err != nil {
		t.Errorf("Secure() = %v, %v", s, err)
	}
	if p := c.RPCProtection(); strings.Join(p, ",") != "privacy,integrity" {
		t.Errorf("RPCProtection() = %v", p)
	}
	for _, tc := range []struct {
		f    func() (string, error)
		want string
	}{{c.ResourceManagerAddress, "rm1:8032"}, {c.SchedulerAddress, "rm1:8030"}} {
		if a, err := tc.f(); a != tc.want || err != nil {
			t.Errorf("address %q, %v, want %s", a, err, tc.want)
		}
	}
}

func TestConfHAAndErrors(t *testing.T) {
	dir := t.TempDir()
	writeSite(t, dir, "yarn-site.xml", map[string]string{
		"yarn.resourcemanager.ha.enabled": "true", "yarn.resourcemanager.ha.rm-ids": "rm2,rm1",
		"yarn.resourcemanager.address.rm2": "h2:9999", "yarn.resourcemanager.hostname.rm1": "h1",
	})
	c, err := LoadConf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.ResourceManagerAddress(); a != "h2:9999" {
		t.Errorf("HA address %q, want the first rm-id's", a)
	}
	empty, _ := LoadConf(t.TempDir())
	if _, err := empty.ResourceManagerAddress(); err == nil || !strings.Contains(err.Error(), "yarn.resourcemanager.address is not set") {
		t.Errorf("err = %v", err)
	}
	writeSite(t, dir, "core-site.xml", map[string]string{"hadoop.security.authentication": "ldap"})
	c, _ = LoadConf(dir)
	if _, err := c.Secure(); err == nil || !strings.Contains(err.Error(), `hadoop.security.authentication="ldap"`) {
		t.Errorf("err = %v", err)
	}
	if _, err := LoadConfFromEnv(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "set HADOOP_CONF_DIR") {
		t.Errorf("err = %v", err)
	}
}

func TestSimpleUser(t *testing.T) {
	env := map[string]string{"HADOOP_USER_NAME": "alice"}
	if u, _ := simpleUser("", func(k string) string { return env[k] }); u != "alice" {
		t.Errorf("user %q, want HADOOP_USER_NAME's", u)
	}
	if u, _ := simpleUser("bob", func(k string) string { return env[k] }); u != "bob" {
		t.Errorf("user %q, want the explicit one", u)
	}
	if u, err := simpleUser("", func(string) string { return "" }); u == "" || err != nil {
		t.Errorf("OS user %q, %v", u, err)
	}
}

func TestIDs(t *testing.T) {
	a, err := ParseApplicationID("application_1700000000000_0042")
	if err != nil || a != (ApplicationID{1700000000000, 42}) || a.String() != "application_1700000000000_0042" {
		t.Errorf("%v %v", a, err)
	}
	for _, s := range []string{"container_1700000000000_0042_01_000003", "container_e17_1700000000000_0042_01_000003"} {
		c, err := ParseContainerID(s)
		if err != nil || c.App != a || c.Attempt != 1 || c.ID&(1<<40-1) != 3 || c.String() != s {
			t.Errorf("%s: %+v %v -> %s", s, c, err, c.String())
		}
		if back := ContainerIDFromProto(c.Proto()); back != c {
			t.Errorf("proto round trip %+v", back)
		}
	}
	for _, bad := range []string{"application_x_1", "container_1_2_3", "app_1_2"} {
		if _, err := ParseApplicationID(bad); err == nil {
			if _, err := ParseContainerID(bad); err == nil {
				t.Errorf("%q parsed", bad)
			}
		}
	}
}

package yarn

import (
	"errors"
	"strings"
	"testing"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/yarn/ipc"
	"github.com/spate-io/spate/yarn/security"
)

// kerberosLogin logs in as principal from keytab with the cluster's krb5.conf.
func kerberosLogin(t testing.TB, c *hadooptest.Cluster, principal, keytabPath string) *krbclient.Client {
	t.Helper()
	cfg, err := krbconfig.Load(c.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := keytab.Load(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	name, realm, _ := strings.Cut(principal, "@")
	cl := krbclient.NewWithKeytab(name, realm, kt, cfg, krbclient.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Destroy)
	return cl
}

func secureClient(t *testing.T) (*Client, *hadooptest.Cluster) {
	t.Helper()
	c := secureHadoop.Get(t)
	cl, err := NewClient(ClientOptions{Conf: confOf(t, c), Kerberos: kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, c
}

func TestSecureKerberosCalls(t *testing.T) {
	cl, c := secureClient(t)
	ctx := ctxFor(t, 30*time.Second)
	m, err := cl.GetClusterMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.GetNumNodeManagers() != 1 || m.GetNumActiveNms() != 1 {
		t.Errorf("cluster metrics %v, want one active NodeManager", m)
	}
	a, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := cl.GetNewApplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID+1 {
		t.Errorf("new applications %s then %s", a, b)
	}
	if _, err := cl.GetApplicationReport(ctx, ApplicationID{ClusterTimestamp: a.ClusterTimestamp, ID: a.ID + 1000}); err == nil {
		t.Error("report of an unknown application: no error")
	} else if _, ok := ipc.IsRemote(err, ApplicationNotFoundException); !ok {
		t.Errorf("err = %v, want ApplicationNotFoundException", err)
	}
	if c.ClientPrincipal != "spate@"+c.Realm {
		t.Fatalf("client principal %s", c.ClientPrincipal)
	}
}

func TestSecureWrongServicePrincipalNamesBoth(t *testing.T) {
	c := secureHadoop.Get(t)
	conf := confOf(t, c)
	kc := kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab)
	wrong := &security.GSSAPI{Client: kc, ServicePrincipal: "rm/_HOST@" + c.Realm, Host: "localhost", ConfKey: "yarn.resourcemanager.principal"}
	cl, err := NewClient(ClientOptions{Conf: conf, Mechanisms: []ipc.Mechanism{wrong}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.GetClusterMetrics(ctxFor(t, 30*time.Second))
	var pe *security.PrincipalError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PrincipalError", err)
	}
	if pe.Offered != c.ServicePrincipal || pe.Expected != "rm/localhost@"+c.Realm {
		t.Errorf("offered %s expected %s, want %s and rm/localhost@%s", pe.Offered, pe.Expected, c.ServicePrincipal, c.Realm)
	}
	if !strings.Contains(err.Error(), "set yarn.resourcemanager.principal to "+c.ServicePrincipal) {
		t.Errorf("error does not say what to change: %v", err)
	}
}

func TestSecureWithoutLoginSaysSo(t *testing.T) {
	c := secureHadoop.Get(t)
	_, err := NewClient(ClientOptions{Conf: confOf(t, c)})
	if err == nil || !strings.Contains(err.Error(), "no Kerberos login or token") {
		t.Fatalf("err = %v", err)
	}
}

// A principal written with _HOST, as clusters configure it, takes the host
// of the address the client dials.
func TestSecureHostPrincipal(t *testing.T) {
	c := secureHadoop.Get(t)
	name, _, _ := strings.Cut(c.ServicePrincipal, "/")
	g := &security.GSSAPI{Client: kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab), ServicePrincipal: name + "/_HOST@" + c.Realm, Host: "LOCALHOST"}
	cl, err := NewClient(ClientOptions{Conf: confOf(t, c), Mechanisms: []ipc.Mechanism{g}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if m, err := cl.GetClusterMetrics(ctxFor(t, 30*time.Second)); err != nil || m.GetNumNodeManagers() != 1 {
		t.Fatalf("%v, %v", m, err)
	}
}

package yarn

import (
	"bufio"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
	"github.com/spate-io/spate/yarn/security"
)

// The test Hadoop runs hadoop.rpc.protection=authentication, so the RM
// never asks for a security layer. Integrity and privacy are tested against
// the JDK's own GSSAPI SaslServer, the acceptor inside Hadoop's RPC server,
// logged in with the cluster's service keytab and asked for each QOP.
func TestGSSAPISecurityLayersAgainstJavaSASL(t *testing.T) {
	c := secureHadoop.Get(t)
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("skipping: java is not on PATH")
	}
	serviceKeytab := filepath.Join(c.Dir, "keytabs", "service.keytab")
	for _, tc := range []struct {
		serverQOP string
		client    []security.Protection
		want      string
	}{
		{"auth-conf", []security.Protection{security.Privacy}, "auth-conf"},
		{"auth-int", []security.Protection{security.Privacy, security.Integrity}, "auth-int"},
		{"auth-conf,auth-int,auth", []security.Protection{security.Integrity, security.Privacy}, "auth-int"},
		{"auth", []security.Protection{security.Authentication}, "auth"},
	} {
		t.Run(tc.serverQOP, func(t *testing.T) {
			cmd := exec.Command(java, "-Djava.security.krb5.conf="+c.Krb5Conf, filepath.Join("testdata", "GssServer.java"), c.ServicePrincipal, serviceKeytab, tc.serverQOP)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(stdout)
			lines.Buffer(nil, 1<<20)
			next := func() string {
				if !lines.Scan() {
					cmd.Wait()
					t.Fatalf("the Java server ended: %s", stderr.String())
				}
				return lines.Text()
			}
			send := func(b []byte) { stdin.Write([]byte(hex.EncodeToString(b) + "\n")) }

			name, _, _ := strings.Cut(c.ServicePrincipal, "@")
			svc, host, _ := strings.Cut(name, "/")
			g := &security.GSSAPI{Client: kerberosLogin(t, c, c.ClientPrincipal, c.ClientKeytab), ServicePrincipal: c.ServicePrincipal, Protection: tc.client}
			sess, tok, err := g.Start(&yarnpb.RpcSaslProto_SaslAuth{Method: proto.String("KERBEROS"), Mechanism: proto.String("GSSAPI"), Protocol: proto.String(svc), ServerId: proto.String(host)})
			if err != nil {
				t.Fatal(err)
			}
			send(tok)
			for {
				kind, h, _ := strings.Cut(next(), " ")
				if kind == "S" {
					break
				}
				ch, _ := hex.DecodeString(h)
				resp, err := sess.Step(ch)
				if err != nil {
					t.Fatal(err)
				}
				send(resp)
			}
			if !sess.Complete() {
				t.Fatal("the server completed before the client")
			}
			if got, want := next(), "QOP "+tc.want+" "+c.ClientPrincipal; got != want {
				t.Fatalf("server says %q, want %q", got, want)
			}
			layer := sess.SecurityLayer()
			if tc.want == "auth" {
				if layer != nil {
					t.Fatal("a security layer without one negotiated")
				}
				return
			}
			w, err := layer.Wrap([]byte("ping"))
			if err != nil {
				t.Fatal(err)
			}
			send(w)
			if got := next(); got != "GOT ping" {
				t.Fatalf("server unwrapped %q", got)
			}
			_, h, _ := strings.Cut(next(), " ")
			reply, _ := hex.DecodeString(h)
			plain, err := layer.Unwrap(reply)
			if err != nil || string(plain) != "pong:ping" {
				t.Fatalf("unwrap the server's reply: %q, %v", plain, err)
			}
		})
	}
}

package security

import (
	"strings"
	"testing"
)

// RFC 2831 section 4's example: user chris, password secret, its nonce and
// cnonce give response d388dad9... and the server's rspauth ea40f603....
func TestDigestMD5RFC2831Example(t *testing.T) {
	s := &digestSession{user: "chris", password: "secret", digestURI: "imap/elwood.innosoft.com", cnonce: "OA6MHXh6VqTrRk"}
	resp, err := s.respond([]byte(`realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8`))
	if err != nil {
		t.Fatal(err)
	}
	want := `username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",maxbuf=65536,response=d388dad90d4bbd760a152321f2143af7,qop=auth,charset=utf-8`
	if string(resp) != want {
		t.Fatalf("response\n got %s\nwant %s", resp, want)
	}
	if _, err := s.Step([]byte("rspauth=ea40f60335c427b5527b84dbabcdfffd")); err != nil || !s.Complete() {
		t.Fatalf("rspauth: %v", err)
	}
	s2 := &digestSession{user: "chris", password: "secret", digestURI: "/default", cnonce: "x", kind: "YARN_AM_RM_TOKEN", service: "rm:8030"}
	if _, err := s2.respond([]byte(`realm="default",nonce="n",qop="auth",algorithm=md5-sess`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Step([]byte("rspauth=00000000000000000000000000000000")); err == nil || !strings.Contains(err.Error(), "YARN_AM_RM_TOKEN token for rm:8030") {
		t.Fatalf("a wrong rspauth: %v", err)
	}
}

func TestDigestMD5RefusesWhatItCannotDo(t *testing.T) {
	for challenge, want := range map[string]string{
		`realm="r",nonce="n",qop="auth-conf",algorithm=md5-sess`: "hadoop.rpc.protection=authentication",
		`realm="r",qop="auth",algorithm=md5-sess`:                "no nonce",
		`realm="r",nonce="n",qop="auth"`:                         "want md5-sess",
		`realm="r,nonce=n`:                                       "unterminated",
		`=x`:                                                     "malformed",
	} {
		s := &digestSession{user: "u", password: "p", digestURI: "/default"}
		if _, err := s.respond([]byte(challenge)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", challenge, err, want)
		}
	}
}

func FuzzParseDigestChallenge(f *testing.F) {
	f.Add([]byte(`realm="default",nonce="abc\"d",qop="auth",charset=utf-8,algorithm=md5-sess`))
	f.Add([]byte(`rspauth=ea40f60335c427b5527b84dbabcdfffd`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseDigestChallenge(b)
		if err != nil {
			return
		}
		s := &digestSession{user: "u", password: "p", digestURI: "/default", cnonce: "c"}
		if c["nonce"] != "" {
			s.respond(b)
		}
	})
}

package transport

import (
	"bytes"
	"testing"
	"time"
)

// FuzzGSSAPIServer: a GSSAPI server fed any bytes never panics, never
// authenticates a client (the fuzzer holds no valid ticket of an allowed
// principal: its seeds are an expired ticket of the cluster's principal and
// a valid one of a principal that is not allowed, whose encrypted parts it
// cannot forge), reads no more than the preamble and one bounded token, and
// writes no more than its preamble and a bounded refusal. Each input costs
// some AES, so minimizing a large one takes minutes: run it with
// -fuzzminimizetime 100x.
func FuzzGSSAPIServer(f *testing.F) {
	serverKeys := testKeytab(f, map[string]string{"spate/localhost": "spate's key"})
	server := testGSSAPI(f, &fakeKDC{keys: kdcKeys(f), client: "spate/localhost", life: time.Hour}, serverKeys, "spate/_HOST")
	p := encodePreamble(GSSAPIMechanism)
	seed := func(client string, life time.Duration) []byte {
		kdc := &fakeKDC{keys: kdcKeys(f), client: client, life: life}
		g := testGSSAPI(f, kdc, serverKeys, "spate/_HOST")
		tkt, key, err := kdc.ServiceTicket("spate/localhost")
		if err != nil {
			f.Fatal(err)
		}
		cname, crealm := kdc.Principal()
		auth, err := g.authenticator(cname, crealm)
		if err != nil {
			f.Fatal(err)
		}
		tok, err := initialContextToken(tkt, key, auth)
		if err != nil {
			f.Fatal(err)
		}
		return append(p[:], lengthPrefixed(tok)...)
	}
	f.Add([]byte{})
	f.Add(p[:])
	f.Add(seed("spate/localhost", -10*time.Minute))
	f.Add(seed("intruder", time.Hour))
	f.Add(append(p[:], 0, 0, 0, 3, 0x60, 0x01, 0x00))
	f.Add(append(p[:], 0xff, 0xff, 0xff, 0xff))
	const maxRead = preambleSize + 4 + maxGSSToken
	const maxWrite = preambleSize + 5 + maxRefusal
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &fuzzConn{in: bytes.NewReader(in)}
		_, peer, err := serverHandshake(c, server)
		if err == nil {
			t.Fatalf("authenticated %+v", peer)
		}
		if c.read > maxRead {
			t.Fatalf("read %d bytes, more than %d", c.read, maxRead)
		}
		if c.out.Len() > maxWrite {
			t.Fatalf("wrote %d bytes, more than %d", c.out.Len(), maxWrite)
		}
	})
}

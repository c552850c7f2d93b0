package security

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

func TestReplaceHost(t *testing.T) {
	for _, tc := range []struct{ in, host, want string }{
		{"rm/_HOST@R", "Node1.Example.COM", "rm/node1.example.com@R"},
		{"rm/_HOST", "h", "rm/h"},
		{"rm/fixed@R", "h", "rm/fixed@R"},
		{"_HOST@R", "h", "_HOST@R"},
	} {
		if got := ReplaceHost(tc.in, tc.host); got != tc.want {
			t.Errorf("ReplaceHost(%q, %q) = %q, want %q", tc.in, tc.host, got, tc.want)
		}
	}
}

func TestParseProtection(t *testing.T) {
	p, err := ParseProtection([]string{"privacy", " Integrity", "authentication"})
	if err != nil || len(p) != 3 || p[0] != Privacy || p[1] != Integrity || p[2] != Authentication {
		t.Fatalf("%v %v", p, err)
	}
	if _, err := ParseProtection([]string{"secret"}); err == nil || !strings.Contains(err.Error(), `hadoop.rpc.protection="secret"`) {
		t.Fatalf("err = %v", err)
	}
}

func testKey(t *testing.T) types.EncryptionKey {
	k := make([]byte, 32)
	rand.Read(k)
	return types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: k}
}

// asAcceptor flips the sent-by-acceptor flag and re-signs, so the
// initiator's own code can stand in for the acceptor in these tests of the
// token format (the exchange with a real acceptor is tested in package yarn).
func TestWrapTokenRoundTripAndTamper(t *testing.T) {
	key := testKey(t)
	for _, seal := range []bool{false, true} {
		l := &krb5Layer{key: key, seal: seal, sendSeq: 7}
		msg := []byte("\x00\x00\x00\x05hello")
		tok, err := l.wrap(msg, seal)
		if err != nil {
			t.Fatal(err)
		}
		if tok[0] != 0x05 || tok[1] != 0x04 || binary.BigEndian.Uint64(tok[8:16]) != 7 {
			t.Fatalf("header % x", tok[:16])
		}
		if sealed := tok[2]&wrapFlagSealed != 0; sealed != seal {
			t.Fatalf("sealed flag %v, want %v", sealed, seal)
		}
		if !seal && !bytes.Contains(tok, msg) {
			t.Fatal("an unsealed token carries the payload in clear")
		}
		if seal && bytes.Contains(tok, []byte("hello")) {
			t.Fatal("a sealed token shows the payload")
		}
		got, err := unwrapToken(key, tok, false, seal)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("seal=%v: unwrap = %q, %v", seal, got, err)
		}
		// Rotated by RRC, as some acceptors send it.
		rot := append([]byte(nil), tok...)
		body := rot[16:]
		rrc := 5
		rotated := append(append([]byte(nil), body[len(body)-rrc:]...), body[:len(body)-rrc]...)
		copy(body, rotated)
		binary.BigEndian.PutUint16(rot[6:], uint16(rrc))
		if !seal {
			// An unsealed token's RRC is outside the checksum.
			if got, err := unwrapToken(key, rot, false, false); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("rotated unsealed: %q, %v", got, err)
			}
		}
		bad := append([]byte(nil), tok...)
		bad[len(bad)-1] ^= 1
		if _, err := unwrapToken(key, bad, false, seal); err == nil {
			t.Fatalf("seal=%v: a tampered token unwrapped", seal)
		}
		if _, err := unwrapToken(key, tok, true, seal); err == nil || !strings.Contains(err.Error(), "wrong side") {
			t.Fatalf("seal=%v: an initiator token taken as the acceptor's: %v", seal, err)
		}
	}
	if _, err := unwrapToken(key, []byte{1, 2}, true, false); err == nil {
		t.Fatal("a 2-byte token unwrapped")
	}
}

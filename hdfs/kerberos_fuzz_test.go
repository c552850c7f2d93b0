package hdfs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
)

// FuzzParseKeytab: whatever the bytes of a keytab file, parsing returns a
// keytab or an error, never panics; a keytab that parses writes back and
// parses again to the same principals.
func FuzzParseKeytab(f *testing.F) {
	kt := keytab.New()
	for _, p := range []string{"spate", "nn/host.example.com"} {
		if err := kt.AddEntry(p, "SPATE.TEST", "secret", time.Unix(1700000000, 0), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			f.Fatal(err)
		}
	}
	good, err := kt.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{5, 2})
	f.Add([]byte{5, 2, 0xff, 0xff, 0xff, 0xf0})
	f.Add([]byte{5, 1, 0, 0, 0, 8, 0, 1, 0, 1, 'R', 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		kt, err := parseKeytab(b)
		if err != nil {
			return
		}
		// What a login asks of it. (No round trip: gokrb5's Marshal writes
		// some entries it reads in a form it cannot read back; Spate never
		// writes keytabs.)
		for _, p := range keytabPrincipals(kt) {
			_, _ = splitPrincipal(p, "")
		}
	})
}

// TestParseCredentialSeeds: the fuzz seeds that are real files parse to what
// they hold; a huge count is refused before anything is allocated.
func TestParseCredentialSeeds(t *testing.T) {
	kt := keytab.New()
	if err := kt.AddEntry("spate", "SPATE.TEST", "secret", time.Unix(1700000000, 0), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseKeytab(b)
	if err != nil || !slices.Equal(keytabPrincipals(got), []string{"spate@SPATE.TEST"}) {
		t.Fatalf("keytab: %v, %v", got, err)
	}
	good := ccacheBytes("spate", "SPATE.TEST", time.Unix(1800000000, 0))
	cc, err := parseCCache(good)
	if err != nil || cc.GetClientPrincipalName().PrincipalNameString() != "spate" || cc.GetClientRealm() != "SPATE.TEST" {
		t.Fatalf("ticket cache: %+v, %v", cc, err)
	}
	tgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", "SPATE.TEST"}}
	if cred, ok := cc.GetEntry(tgt); !ok || !cred.EndTime.Equal(time.Unix(1800000000, 0)) {
		t.Fatalf("TGT: %+v, %v", cred, ok)
	}
	// The address count (after the ticket flags) set to 2^31-1.
	huge := append([]byte(nil), good...)
	at := len(huge) - 4 - 4 - 6 - 4 - 4 // second ticket, ticket, authdata count, address count
	copy(huge[at:], []byte{0x7f, 0xff, 0xff, 0xff})
	if _, err := parseCCache(huge); err == nil || !strings.Contains(err.Error(), "larger than the file") {
		t.Fatalf("a count of 2^31-1: %v", err)
	}
}

// ccacheBytes is a version-4 ticket cache holding one TGT of user@realm.
func ccacheBytes(user, realm string, end time.Time) []byte {
	var b bytes.Buffer
	u32 := func(v uint32) { _ = binary.Write(&b, binary.BigEndian, v) }
	data := func(s string) { u32(uint32(len(s))); b.WriteString(s) }
	principal := func(nt uint32, names ...string) {
		u32(nt)
		u32(uint32(len(names)))
		data(realm)
		for _, n := range names {
			data(n)
		}
	}
	b.Write([]byte{5, 4, 0, 0})
	principal(1, user)
	principal(1, user)
	principal(2, "krbtgt", realm)
	b.Write([]byte{0, 18})
	data("0123456789abcdef0123456789abcdef")
	for range 4 {
		u32(uint32(end.Unix()))
	}
	b.WriteByte(0)
	u32(0x40e00000)
	u32(0)
	u32(0)
	data("ticket")
	data("")
	return b.Bytes()
}

// FuzzParseCCache: whatever the bytes of a ticket cache, parsing and the
// look-ups a login makes of it (client, realm, the TGT and its end time)
// return or fail, never panic.
func FuzzParseCCache(f *testing.F) {
	good := ccacheBytes("spate", "SPATE.TEST", time.Unix(1800000000, 0))
	f.Add(good)
	f.Add(good[:40])
	f.Add([]byte{5, 4, 0, 0})
	f.Add([]byte{5, 4, 0xff, 0xff})
	f.Add([]byte{5, 3, 0, 0, 0, 1, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := parseCCache(b)
		if err != nil {
			return
		}
		_ = cc.GetClientPrincipalName().PrincipalNameString()
		realm := cc.GetClientRealm()
		tgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}}
		if cred, ok := cc.GetEntry(tgt); ok {
			_ = cred.EndTime.After(time.Now())
		}
	})
}

package security

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVLongMatchesWritableUtils(t *testing.T) {
	// Values and encodings from WritableUtils.writeVLong's definition.
	for _, tc := range []struct {
		v    int64
		want string
	}{
		{0, "00"}, {127, "7f"}, {-112, "90"}, {128, "8f80"}, {255, "8fff"}, {256, "8e0100"},
		{-113, "8770"}, {-256, "87ff"}, {-257, "860100"}, {math.MaxInt64, "887fffffffffffffff"},
	} {
		got := appendVLong(nil, tc.v)
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("appendVLong(%d) = %x, want %s", tc.v, got, tc.want)
		}
		back, err := readVLong(bytes.NewReader(got))
		if err != nil || back != tc.v {
			t.Errorf("readVLong(%x) = %d, %v", got, back, err)
		}
	}
}

func sampleCredentials() *Credentials {
	return &Credentials{
		Tokens: map[string]*Token{
			"127.0.0.1:8030": {Identifier: []byte{1, 2, 3}, Password: []byte("pw"), Kind: "YARN_AM_RM_TOKEN", Service: "127.0.0.1:8030"},
			"hdfs":           {Identifier: bytes.Repeat([]byte{9}, 200), Password: []byte{}, Kind: "HDFS_DELEGATION_TOKEN", Service: "ha-hdfs:ns"},
		},
		Secrets: map[string][]byte{"key": []byte("secret")},
	}
}

func TestCredentialsWritableBytes(t *testing.T) {
	c := &Credentials{Tokens: map[string]*Token{"a": {Identifier: []byte{1}, Password: []byte{2, 3}, Kind: "K", Service: "s:1"}}, Secrets: map[string][]byte{"x": {7}}}
	b, err := c.Marshal(CredentialsWritable)
	if err != nil {
		t.Fatal(err)
	}
	want := "48445453" + "00" + // HDTS, version 0
		"01" + "0161" + // one token, alias "a"
		"0101" + "020203" + "014b" + "03733a31" + // identifier, password, kind, service
		"01" + "0178" + "0107" // one secret "x" = 07
	if hex.EncodeToString(b) != want {
		t.Fatalf("bytes %x\nwant  %s", b, want)
	}
}

func TestCredentialsRoundTrip(t *testing.T) {
	for _, v := range []int{CredentialsWritable, CredentialsProtobuf} {
		c := sampleCredentials()
		p := filepath.Join(t.TempDir(), "container_tokens")
		if err := c.WriteCredentialsFile(p, v); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCredentialsFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("version %d: read %+v, wrote %+v", v, got, c)
		}
		if tok := got.TokenOfKind("YARN_AM_RM_TOKEN"); tok == nil || tok.Service != "127.0.0.1:8030" {
			t.Errorf("TokenOfKind: %v", tok)
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp"))
		if len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

func TestCredentialsGarbage(t *testing.T) {
	good, _ := sampleCredentials().Marshal(CredentialsWritable)
	for name, b := range map[string][]byte{
		"empty":     {},
		"magic":     []byte("HDTX\x00"),
		"version":   []byte("HDTS\x07"),
		"truncated": good[:len(good)-3],
		"huge":      append([]byte("HDTS\x00\x01\x01a"), 0x8c, 0x7f, 0xff, 0xff, 0xff),
	} {
		_, err := ReadCredentials(b)
		if !errors.Is(err, ErrCredentialsFormat) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644)
	if _, err := ReadCredentialsFile("/nonexistent/ct"); err == nil || !strings.Contains(err.Error(), "/nonexistent/ct") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzReadCredentials(f *testing.F) {
	for _, v := range []int{CredentialsWritable, CredentialsProtobuf} {
		b, _ := sampleCredentials().Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadCredentials(b)
		if err != nil {
			return
		}
		// What reads must write and read back the same.
		out, err := c.Marshal(CredentialsWritable)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ReadCredentials(out)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

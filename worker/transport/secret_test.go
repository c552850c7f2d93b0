package transport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestGenerateSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := GenerateSecretFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %04o, want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(data) {
		t.Errorf("content %q is not 64 hex digits and a newline", data)
	}
	secret, err := LoadSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != GeneratedSecretSize {
		t.Errorf("loaded %d bytes, want %d", len(secret), GeneratedSecretSize)
	}

	// An existing file is kept as it is.
	if err := GenerateSecretFile(path); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("GenerateSecretFile replaced an existing secret")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the secret (no temporary files)", len(entries))
	}

	// Two files get different secrets.
	other := filepath.Join(t.TempDir(), "secret")
	if err := GenerateSecretFile(other); err != nil {
		t.Fatal(err)
	}
	if s2, _ := LoadSecret(other); bytes.Equal(s2, secret) {
		t.Error("two generated secrets are equal")
	}
}

func TestLoadSecret(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []byte // nil: an error containing errText
		errText string
		errIs   error
	}{
		{name: "0600", content: hex64 + "\n", mode: 0o600, want: bytes.Repeat([]byte{0xab}, 32)},
		{name: "0400", content: "  " + hex64 + "  \n", mode: 0o400, want: bytes.Repeat([]byte{0xab}, 32)},
		{name: "16 bytes", content: strings.Repeat("01", 16), mode: 0o600, want: bytes.Repeat([]byte{1}, 16)},
		{name: "readable by others", content: hex64, mode: 0o644, errText: "has mode 0644: chmod 600 ", errIs: ErrSecretFileMode},
		{name: "readable by group", content: hex64, mode: 0o640, errText: "has mode 0640: chmod 600 ", errIs: ErrSecretFileMode},
		{name: "writable by group", content: hex64, mode: 0o620, errText: "chmod 600 ", errIs: ErrSecretFileMode},
		{name: "not hex", content: "correct horse battery staple", mode: 0o600, errText: "must hold hex digits only"},
		{name: "too short", content: strings.Repeat("01", 15), mode: 0o600, errText: "holds 15 bytes, at least 16 are needed"},
		{name: "too long", content: strings.Repeat("0", 5000), mode: 0o600, errText: "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := LoadSecret(path)
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("secret = %x, want %x", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadSecret accepted %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q does not contain %q", err, tt.errText)
			}
			if tt.errIs == ErrSecretFileMode && !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("error %q does not say chmod 600 %s", err, path)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("error %v is not %v", err, tt.errIs)
			}
		})
	}
	if _, err := LoadSecret(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadSecret of a directory: %v", err)
	}
}

func TestNewSharedSecretTooShort(t *testing.T) {
	if _, err := NewSharedSecret(make([]byte, 15)); err == nil {
		t.Fatal("NewSharedSecret accepted 15 bytes")
	}
}

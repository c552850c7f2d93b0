package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

func frameBytes(body string) []byte {
	b := make([]byte, frameHeaderSize+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	copy(b[frameHeaderSize:], body)
	return b
}

func TestReadFrame(t *testing.T) {
	const max = 16
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name   string
		stream []byte
		frames []string
		end    string // the error after the frames: "" for io.EOF
	}{
		{name: "empty stream", stream: nil},
		{name: "one frame", stream: frameBytes("hello"), frames: []string{"hello"}},
		{name: "empty frame", stream: frameBytes(""), frames: []string{""}},
		{name: "at the limit", stream: frameBytes("0123456789abcdef"), frames: []string{"0123456789abcdef"}},
		{name: "three frames", stream: cat(frameBytes("a"), frameBytes("bc"), frameBytes("def")), frames: []string{"a", "bc", "def"}},
		{
			name:   "above the limit",
			stream: cat(frameBytes("ok"), frameBytes("0123456789abcdefg")),
			frames: []string{"ok"},
			end:    "frame from 10.0.0.1:7000 declares 17 bytes, above the limit of 16 bytes: frame too large",
		},
		{
			name:   "4 GiB declared",
			stream: []byte{0xff, 0xff, 0xff, 0xff, 'x'},
			end:    "frame from 10.0.0.1:7000 declares 4294967295 bytes, above the limit of 16 bytes: frame too large",
		},
		{
			name:   "truncated header",
			stream: cat(frameBytes("ok"), []byte{0, 0}),
			frames: []string{"ok"},
			end:    "frame from 10.0.0.1:7000: stream ended after 2 of 4 header bytes (unexpected EOF): truncated frame",
		},
		{
			name:   "truncated body",
			stream: frameBytes("0123456789")[:9],
			end:    "frame from 10.0.0.1:7000: stream ended after 5 of 10 declared bytes (unexpected EOF): truncated frame",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := frameReader{r: bytes.NewReader(tt.stream), max: max, peer: "10.0.0.1:7000"}
			var got []string
			var err error
			for {
				var f []byte
				f, err = fr.readFrame(nil)
				if err != nil {
					break
				}
				got = append(got, string(f))
			}
			if !equalStrings(got, tt.frames) {
				t.Errorf("frames = %q, want %q", got, tt.frames)
			}
			if tt.end == "" {
				if err != io.EOF {
					t.Errorf("end = %v, want io.EOF", err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("end = %v, want a *FrameError", err)
			}
			if err.Error() != tt.end {
				t.Errorf("end =\n%v\nwant\n%v", err, tt.end)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReadFrameAllocatesAsBytesArrive: a peer that declares a frame at the
// limit (64 MiB) and sends 10 bytes costs about one chunk (64 KiB), not 64 MiB;
// the bound leaves room for whatever else the runtime allocates meanwhile.
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	stream := append([]byte{0x04, 0, 0, 0}, "0123456789"...) // 64 MiB declared
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fr := frameReader{r: bytes.NewReader(stream), max: DefaultControlMaxFrame, peer: "p"}
	_, err := fr.readFrame(nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncatedFrame) {
		t.Fatalf("err = %v, want ErrTruncatedFrame", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Errorf("allocated %d bytes for a frame that sent 10, want under 1 MiB (one chunk is %d)", grown, frameChunk)
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	stream := bytes.Join([][]byte{frameBytes("first"), frameBytes("second")}, nil)
	fr := frameReader{r: bytes.NewReader(stream), max: 64, peer: "p"}
	buf := make([]byte, 0, 32)
	f1, _ := fr.readFrame(buf)
	f2, _ := fr.readFrame(f1)
	if &f2[0] != &buf[:1][0] || string(f2) != "second" {
		t.Errorf("second frame %q did not reuse the buffer", f2)
	}
}

func TestPutFrameHeader(t *testing.T) {
	f := append(make([]byte, frameHeaderSize), "abc"...)
	if err := putFrameHeader(f, 3, "p"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f, frameBytes("abc")) {
		t.Errorf("frame = %q", f)
	}
	if err := putFrameHeader(f, 2, "10.0.0.1:7000"); !errors.Is(err, ErrFrameTooLarge) ||
		err.Error() != "message of 3 bytes to 10.0.0.1:7000 is above the frame limit of 2 bytes: frame too large" {
		t.Errorf("putFrameHeader above the limit: %v", err)
	}
}

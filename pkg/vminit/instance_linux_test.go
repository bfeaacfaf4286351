package vminit

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// chunks reads as a virtio-serial port does: EOF while no host end is
// connected, then the host's bytes in whatever pieces.
type chunks struct{ reads []string }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, io.EOF
	}
	r := c.reads[0]
	c.reads = c.reads[1:]
	if r == "" {
		return 0, io.EOF
	}
	return copy(p, r), nil
}

func TestReadConfigWaitsThroughEOF(t *testing.T) {
	want := Config{Instance: "qemu-fn-1", Function: "fn", Token: "t0k", Seed: bytes.Repeat([]byte{7}, SeedSize), UnixNano: 42}
	line := string(want.Marshal())
	r := &chunks{reads: []string{"", "", line[:10], "", line[10:] + "ignored"}}
	got, err := readConfig(r, time.Minute, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got.Instance != want.Instance || got.Token != want.Token || !bytes.Equal(got.Seed, want.Seed) || got.UnixNano != 42 {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestReadConfigRefusesWhatIsNotAnInstance(t *testing.T) {
	for name, line := range map[string]string{
		"no token": `{"instance":"qemu-fn-1","seed":"` + strings.Repeat("A", 88) + `"}` + "\n",
		"no seed":  `{"instance":"qemu-fn-1","token":"t"}` + "\n",
		"not json": "ready\n",
	} {
		if _, err := readConfig(&chunks{reads: []string{line}}, time.Minute, time.Millisecond); err == nil {
			t.Errorf("%s: accepted %q", name, line)
		}
	}
	// Nobody coming: it gives up at its limit.
	start := time.Now()
	if _, err := readConfig(&chunks{}, 50*time.Millisecond, time.Millisecond); err == nil || !strings.Contains(err.Error(), "nobody is coming") {
		t.Fatalf("err = %v, want nobody is coming", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("it waited %s", d)
	}
}

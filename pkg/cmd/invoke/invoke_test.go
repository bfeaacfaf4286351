package invoke

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

func TestPayloadSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.json")
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		data    string
		hasData bool
		stdin   string
		tty     bool
		want    string
	}{
		{"flag", "inline", true, "ignored", false, "inline"},
		{"empty flag", "", true, "ignored", false, ""},
		{"file", "@" + file, true, "ignored", false, `{"from":"file"}`},
		{"explicit stdin", "@-", true, "piped", true, "piped"},
		{"piped stdin", "", false, "piped", false, "piped"},
		{"terminal stdin is not read", "", false, "typed", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			io, in, _, _ := iostreams.Test()
			in.WriteString(c.stdin)
			io.SetTTY(c.tty, false, false)
			o := &Options{IO: io, Data: c.data, HasData: c.hasData}
			got, err := o.payload()
			if err != nil || string(got) != c.want {
				t.Fatalf("payload = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestPayloadErrors(t *testing.T) {
	dir := t.TempDir()
	io, in, _, _ := iostreams.Test()
	in.WriteString(strings.Repeat("x", engine.PayloadLimit+1))
	for _, o := range []*Options{
		{IO: io, Data: "@" + filepath.Join(dir, "missing"), HasData: true},
		{IO: io, Data: "@" + dir, HasData: true},
		{IO: io},
	} {
		if _, err := o.payload(); fault.KindOf(err) != fault.Usage {
			t.Errorf("payload(%q) = %v, want a usage error", o.Data, err)
		}
	}
}

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{"hello"}, Want: Options{Name: "hello", Output: "result"}},
		{Args: []string{"hello", "-d", `{"n":1}`}, Want: Options{Name: "hello", Data: `{"n":1}`, HasData: true, Output: "result"}},
		{Args: []string{"hello", "--data", ""}, Want: Options{Name: "hello", HasData: true, Output: "result"}},
		{Args: []string{"hello", "--async", "--retries", "2", "--timeout", "5s", "-o", "json"},
			Want: Options{Name: "hello", Async: true, Retries: 2, Timeout: 5 * time.Second, Output: "json"}},
		{Args: []string{"hello", "--timeout", "-1s"}, Usage: true},
		{Args: []string{"hello", "--retries", "1"}, Usage: true},
		{Args: []string{"hello", "--callback", "http://x/"}, Usage: true},
		{Args: []string{"hello", "--async", "--callback", "http://x/"}, Want: Options{Name: "hello", Async: true, Callback: "http://x/", Output: "result"}},
		{Args: []string{"hello", "--retries", "many", "--async"}, Usage: true},
		{Args: []string{"hello", "-o", "table"}, Usage: true},
		{Args: []string{}, Usage: true},
		{Args: []string{"a", "b"}, Usage: true},
	})
}

package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
)

// runJailed runs argv in a jail and returns its exit facts, stdout and
// stderr.
func runJailed(t *testing.T, j *Jail, argv ...string) (Exit, string, string) {
	t.Helper()
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sandbox.Jail {
		t.Skip("this host cannot jail: " + r.Sandbox.JailWhy)
	}
	if j == nil {
		j = &Jail{UID: UIDFor(t.Name()), TmpMB: 8}
	}
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	p, err := r.Start(Spec{ID: "j" + strconv.FormatInt(time.Now().UnixNano(), 36), Argv: argv, MemoryMB: 256, CPUs: 1,
		Stdout: outW, Stderr: errW, Jail: j, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	var out, serr bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = out.ReadFrom(outR); close(done) }()
	_, _ = serr.ReadFrom(errR)
	<-done
	werr := p.Cmd.Wait()
	e := p.Exit(werr)
	p.Release()
	return e, out.String(), serr.String()
}

func TestJailSmoke(t *testing.T) {
	e, out, serr := runJailed(t, nil, "/bin/sh", "-c", "id; echo $$; ls /; ls /proc | head -5; grep Cap /proc/self/status; cat /proc/self/uid_map; ip addr 2>&1 | head; exit 3")
	t.Logf("exit %+v\nout:\n%s\nerr:\n%s", e, out, serr)
	if e.Code == nil || *e.Code != 3 {
		t.Fatalf("exit %+v", e)
	}
}

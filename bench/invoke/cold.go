package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/pkg/sandbox"
)

// coldParts times, next to each cold start, its baseline and its parts as
// processes of their own.
type coldParts struct {
	faas, python string
	runner       *sandbox.Runner // nil where this host cannot jail

	pass    series // (p) /usr/bin/python3 -c pass, the goal's baseline
	version series // (e1) faas version: a faas process from start to exit
	jailed  series // (e2) /bin/true in a jail, through faas' shim
	jailPy  series // (e3) python3 -c pass in a jail, the worker's interpreter
}

func newColdParts(dir, faas, python string) (*coldParts, error) {
	c := &coldParts{faas: faas, python: python,
		pass:    series{name: "(p) /usr/bin/python3 -c pass, direct (goal 3a's baseline)"},
		version: series{name: "(e1) part: faas version (a faas process)"},
		jailed:  series{name: "(e2) part: /bin/true in a jail (shim, init, root, user namespace, seccomp)"},
		jailPy:  series{name: "(e3) part: " + python + " -c pass in a jail"},
	}
	sb := sandbox.DetectSandbox()
	if sb.Jail {
		home := filepath.Join(dir, "parts")
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		c.runner = &sandbox.Runner{Home: home, Self: faas, Sandbox: sb}
	}
	return c, nil
}

func (c *coldParts) measure(i int, env []string) error {
	d, err := benchutil.Time(env, "/usr/bin/python3", "-c", "pass")
	if err != nil {
		return err
	}
	c.pass.d = append(c.pass.d, d)
	if d, err = benchutil.Time(env, c.faas, "version"); err != nil {
		return err
	}
	c.version.d = append(c.version.d, d)
	if c.runner == nil {
		return nil
	}
	if d, err = c.jail(i, "/bin/true"); err != nil {
		return err
	}
	c.jailed.d = append(c.jailed.d, d)
	if d, err = c.jail(i, c.python, "-c", "pass"); err != nil {
		return err
	}
	c.jailPy.d = append(c.jailPy.d, d)
	return nil
}

// jail times argv in a jail as a worker's is made (cgroups, the function's
// uid, the interpreter's prefix bound), from start to exit.
func (c *coldParts) jail(i int, argv ...string) (time.Duration, error) {
	var errb bytes.Buffer
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() { _, _ = errb.ReadFrom(r); close(done) }()
	t := time.Now()
	p, err := c.runner.Start(sandbox.Spec{ID: "bench-part-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(i), Argv: argv,
		MemoryMB: 256, CPUs: 1, Stderr: w, Env: []string{"PATH=/usr/bin:/bin"},
		Jail: &sandbox.Jail{UID: sandbox.UIDFor("bench-part"), TmpMB: 64, Mounts: sandbox.ProgramMounts(argv[0])}})
	w.Close()
	if err != nil {
		r.Close()
		return 0, err
	}
	e := p.Exit(p.Cmd.Wait())
	d := time.Since(t)
	p.Release()
	<-done
	r.Close()
	if e.Code == nil || *e.Code != 0 {
		return d, fmt.Errorf("jailed %v: %+v: %s", argv, e, errb.String())
	}
	return d, nil
}

// series lists what was measured: the parts only where the host can jail.
func (c *coldParts) series() []series {
	out := []series{c.pass, c.version}
	if c.runner != nil {
		out = append(out, c.jailed, c.jailPy)
	}
	return out
}

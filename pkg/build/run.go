package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/egress"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

// argv is pip's or npm's command line, for an environment at dir (as the
// build sees it) and npm's cache at cache.
func (p *plan) argv(dir, cache string, jailed bool) []string {
	if p.spec.Runtime == function.Python {
		a := []string{p.prog, "-m", "pip", "install", "--target", filepath.Join(dir, PythonDir),
			"-r", filepath.Join(dir, "requirements.txt"), "--no-compile", "--disable-pip-version-check",
			"--no-input", "--progress-bar", "off", "--no-cache-dir"}
		if p.offline {
			// Build isolation downloads setuptools, which fails offline.
			a = append(a, "--no-build-isolation")
		}
		return a
	}
	return []string{p.prog, p.npm, "ci", "--prefix", dir, "--cache", cache,
		"--userconfig", p.npmrc("userconfig", jailed), "--globalconfig", p.npmrc("globalconfig", jailed),
		"--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund", "--no-update-notifier", "--logs-max=0"}
}

// what names the build's command in messages.
func (p *plan) what() string {
	if p.spec.Runtime == function.Python {
		return "pip install"
	}
	return "npm ci"
}

// run runs pip or npm for p in work (out is the environment), jailed where
// the host jails, its output streamed to the spec's log. A failure is the
// function's, with the output's last lines; an interruption kills it.
func (b *Builder) run(ctx context.Context, p *plan, work, out string) error {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := &output{w: p.spec.Log}
	defer log.close() // the proxy may still be ending connections
	memoryMB, tmpMB := b.MemoryMB, b.TmpMB
	if memoryMB <= 0 {
		memoryMB = DefaultMemoryMB
	}
	if tmpMB <= 0 {
		tmpMB = DefaultTmpMB
	}
	dir, cache := out, faashome.Cache(b.Home, "npm")
	env := []string{"LANG=C.UTF-8"}
	var jail *sandbox.Jail
	if b.jailed() {
		env = append(env, p.jailSettings()...)
		dir, cache = JailDir, jailHome+"/.npm"
		jail = &sandbox.Jail{UID: b.uid(), TmpMB: tmpMB}
		jail.Mounts = append(sandbox.ProgramMounts(p.prog), sandbox.ProgramMounts(p.npm)...)
		jail.Mounts = append(jail.Mounts, sandbox.Mount{Source: out, Target: JailDir, Writable: true})
		if p.spec.Runtime == function.Node {
			jail.Mounts = append(jail.Mounts, sandbox.Mount{Source: faashome.Cache(b.Home, "npm"), Target: cache, Writable: true})
		}
		for _, d := range p.dirs {
			jail.Mounts = append(jail.Mounts, sandbox.Mount{Source: d, Target: d})
		}
		for i, c := range p.configs {
			jail.Mounts = append(jail.Mounts, sandbox.Mount{Source: filepath.Join(work, "config", fmt.Sprint(i)), Target: c.jail})
		}
		env = append(env, "HOME="+jailHome, "TMPDIR="+sandbox.JailTmp, "PATH="+filepath.Dir(p.prog)+":/usr/local/bin:/usr/bin:/bin")
		if !p.offline {
			var err error
			if jail.Egress, err = egress.Start([]string{"*"}, log.notef); err != nil {
				return fault.Platformf("egress proxy: %w", err)
			}
			env = append(env, egress.ProxyEnv()...)
		}
	} else {
		env = append(env, p.settings...)
		for _, k := range []string{"HOME", "PATH", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
			if v := lookup(b.environ(), k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		if jail != nil && jail.Egress != nil {
			jail.Egress.Close()
		}
		return fault.Platformf("create pipes: %w", err)
	}
	id := "build-" + p.key[:12] + "-" + filepath.Base(work)[len(".tmp-")+len(p.key)+1:]
	proc, err := b.Runner.Start(sandbox.Spec{ID: id, Argv: p.argv(dir, cache, jail != nil), Env: env, Jail: jail,
		MemoryMB: memoryMB, CPUs: b.cpus(), Stdout: w, Stderr: w})
	if jail != nil && jail.Egress != nil {
		jail.Egress.Close() // the jail's init has its own
	}
	w.Close()
	if err != nil {
		r.Close()
		return err
	}
	defer proc.Release()
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(log, r)
		close(copied)
	}()
	waited := make(chan error, 1)
	go func() { waited <- proc.Cmd.Wait() }()
	var waitErr error
	var stopped bool
	select {
	case waitErr = <-waited:
	case <-tctx.Done():
		stopped = true
		proc.Kill()
		waitErr = <-waited
	}
	proc.Kill() // whatever it left behind
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // held open by a process that left the group (unjailed)
	}
	r.Close()
	exit := proc.Exit(waitErr)
	if err := sandbox.ShimError(exit.Code, log.head); err != nil {
		return err
	}
	switch {
	case stopped && ctx.Err() != nil:
		return fault.Platformf("build interrupted: %w", ctx.Err())
	case stopped:
		return fault.WithHint(fault.Functionf("%s was killed after %s (the build's timeout)%s", p.what(), timeout, log.tail()),
			"its whole output is in the build log")
	case exit.OOMKilled:
		return fault.Functionf("%s was killed: out of memory (a build's limit is %d MB)%s", p.what(), memoryMB, log.tail())
	case exit.Code == nil:
		return fault.Functionf("%s was killed by %s%s", p.what(), exit.Signal, log.tail())
	case *exit.Code != 0:
		return fault.Functionf("%s failed (exit status %d)%s", p.what(), *exit.Code, log.tail())
	}
	return nil
}

// tailLines is how many of its last lines a failed build's error quotes.
const tailLines = 20

// output is a build's output: passed on to its log as it comes, and its
// first bytes and last lines kept for the error.
type output struct {
	mu    sync.Mutex
	w     io.Writer // nil once the build is over
	head  []byte
	line  []byte
	lines []string
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w != nil {
		_, _ = o.w.Write(p) // a log that fails does not fail the build
	}
	if n := 512 - len(o.head); n > 0 {
		o.head = append(o.head, p[:min(n, len(p))]...)
	}
	for _, c := range p {
		switch {
		case c == '\n':
			if len(o.lines) == tailLines {
				copy(o.lines, o.lines[1:])
				o.lines = o.lines[:tailLines-1]
			}
			o.lines = append(o.lines, strings.TrimRight(string(o.line), "\r"))
			o.line = o.line[:0]
		case len(o.line) < 400:
			o.line = append(o.line, c)
		}
	}
	return len(p), nil
}

// close lets go of the log: nothing more reaches it.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w = nil
}

// notef adds a line of faas's own (the egress proxy's refusals).
func (o *output) notef(format string, a ...any) {
	_, _ = o.Write([]byte("faas: " + fmt.Sprintf(format, a...) + "\n"))
}

// tail is the last lines, as the end of an error message.
func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := o.lines
	if len(o.line) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(o.line))
	}
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString("\n  " + l)
		}
	}
	if b.Len() == 0 {
		return " with no output"
	}
	return ":" + b.String()
}

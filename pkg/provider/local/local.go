// Package local is the local provider: each instance is a detached
// `faas agent` process on a unix socket under FAAS_HOME, running the
// function's processes in the sandbox.
package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/spare"
)

// The optional capabilities the engine finds by type assertion: checked
// here, so that losing one is a compile error rather than a silent skip.
var (
	_ provider.LogStreamer    = (*Provider)(nil)
	_ provider.InstanceLogger = (*Provider)(nil)
	_ provider.StatsReader    = (*Provider)(nil)
	_ provider.Configurable   = (*Provider)(nil)
)

// Name is the provider's name as recorded on functions and jobs.
const Name = "local"

// launchTimeout bounds an agent's start-up.
const launchTimeout = 10 * time.Second

// Provider runs instances as local agent processes.
type Provider struct {
	Home string
	Self string
	// Idle is passed to agents (FAAS_AGENT_IDLE); 0 means the agent default.
	Idle time.Duration

	clients client.Clients
	// key is the home's agent key, read once; tokens the instances'
	// tokens derived from it (id → token).
	keyMu  sync.Mutex
	key    []byte
	tokens sync.Map
	// launched holds the ids of the instances this process launched.
	launched sync.Map
	spares   spareState
}

// New returns the local provider for home.
func New(home string) (*Provider, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fault.Platformf("find the faas executable: %w", err)
	}
	p := &Provider{Home: home, Self: self}
	if v := os.Getenv("FAAS_AGENT_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fault.Usagef("FAAS_AGENT_IDLE=%q: use a duration such as 5m", v)
		}
		p.Idle = d
	}
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// socketPath is where an instance's agent listens.
func (p *Provider) socketPath(id string) string { return faashome.AgentSocket(p.Home, id) }

// Endpoint implements provider.Provider: the agent's socket in this home,
// when the instance is this home's (launched by this process, or its
// socket is there). Otherwise it is "": another home's agent (a server of
// the same shared database) is reached through its recorded endpoint and
// token, once its row says it is ready.
func (p *Provider) Endpoint(id string) string {
	sock := p.socketPath(id)
	if _, ok := p.launched.Load(id); !ok {
		if _, err := os.Stat(sock); err != nil {
			return ""
		}
	}
	return "unix:" + sock
}

// instToken is the token of the instance's agent: the one recorded with
// it (an agent of another home has its own), else this home's.
func (p *Provider) instToken(inst faastype.Instance) (string, error) {
	if inst.Token != "" {
		return inst.Token, nil
	}
	return p.token(inst.ID)
}

// LogPath is an instance's agent log.
func (p *Provider) LogPath(id string) string { return faashome.Log(p.Home, id) }

// Launch makes a spare agent the instance (spare.go) or else starts a
// detached agent and waits until it listens; then it keeps the home's
// spares.
func (p *Provider) Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	if _, err := codestore.Write(p.Home, inv); err != nil {
		return inst, err
	}
	if up, ok := p.launchSpare(ctx, inst, inv); ok {
		return up, nil
	}
	return p.launchAgent(ctx, inst, inv)
}

// launchAgent starts a detached agent for inst and waits until it listens.
func (p *Provider) launchAgent(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	sock := p.socketPath(inst.ID)
	for _, dir := range []string{filepath.Dir(sock), faashome.Logs(p.Home)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return inst, fault.Platformf("launch %s: %w", inst.ID, err)
		}
	}
	logf, err := os.OpenFile(p.LogPath(inst.ID), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	defer logf.Close()
	token, err := p.token(inst.ID)
	if err != nil {
		return inst, fault.Platformf("launch %s: agent secret: %w", inst.ID, err)
	}
	p.launched.Store(inst.ID, true)
	inst.Token = token
	args := []string{"faas", "agent", "--instance", inst.ID, "--function", inv.Function, "--home", p.Home, "--socket", sock, "--hold-db", p.Home,
		"--prestart", "--ready-fd", "3"}
	if p.Idle > 0 {
		args = append(args, "--idle", p.Idle.String())
	}
	if inv.Config.MinInstances > 0 {
		args = append(args, "--pinned")
	}
	if n := p.spareCount(); n > 0 && spare.Qualifying(inv.Config) {
		// Once it has started, it keeps the home's spares (pkg/spare).
		args = append(args, "--spares", strconv.Itoa(n), "--shape", p.want(inv).Shape)
	}
	// The version it is launched for, on its stdin: its worker starts
	// while this call waits for the agent to answer (--prestart).
	first, err := json.Marshal(prestartRequest(inv))
	if err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	defer stdin.Close()
	// It says when it listens on its fd 3 (--ready-fd): no polling.
	readyR, readyW, err := os.Pipe()
	if err != nil {
		stdinW.Close()
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	defer readyW.Close()
	cmd := &exec.Cmd{
		Path: p.Self, Args: args, Stdin: stdin, Stdout: logf, Stderr: logf, ExtraFiles: []*os.File{readyW},
		// Its own session: the agent outlives this faas and its terminal.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
		// The token in its environment, not its command line (which every
		// process of the host may read).
		Env: append(os.Environ(), "FAAS_AGENT_TOKEN="+token),
	}
	if err := cmd.Start(); err != nil {
		stdinW.Close()
		readyR.Close()
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	stdin.Close()
	readyW.Close()
	ready := make(chan bool, 1)
	go func() {
		defer readyR.Close()
		b := make([]byte, len(api.ReadyLine))
		n, _ := io.ReadFull(readyR, b)
		ready <- string(b[:n]) == api.ReadyLine
	}()
	go func() {
		// A request larger than the pipe holds waits for the agent to read.
		_, _ = stdinW.Write(first)
		stdinW.Close()
	}()
	exited := make(chan struct{})
	go func() {
		// Reap the agent if it exits while this process still runs.
		_ = cmd.Wait()
		close(exited)
	}()
	inst.Endpoint = "unix:" + sock
	inst.PID = cmd.Process.Pid
	inst.PIDStart = proc.Start(inst.PID)
	timer := time.NewTimer(launchTimeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if ok {
			return inst, nil
		}
		// It closed its end without listening: it is exiting, and its log
		// says why once it has.
		select {
		case <-exited:
		case <-timer.C:
		}
	case <-exited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return inst, fault.Platformf("launch %s: %w", inst.ID, ctx.Err())
	case <-timer.C:
		_ = cmd.Process.Kill()
		return inst, fault.WithHint(fault.Platformf("agent %s did not answer within %s", inst.ID, launchTimeout), "see "+p.LogPath(inst.ID))
	}
	return inst, fault.WithHint(fault.Platformf("agent %s exited at start: %s", inst.ID, lastLine(p.LogPath(inst.ID))),
		"see "+p.LogPath(inst.ID))
}

// prestartRequest is what an agent is launched with for --prestart: the
// version's invoke request without a job or payload.
func prestartRequest(inv faastype.Invocation) api.InvokeRequest {
	inv.JobID, inv.Payload, inv.HTTP = "", nil, false
	return api.NewInvokeRequest(inv)
}

func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}

// Invoke sends inv to the instance's agent. An instance still starting is
// given until the launch timeout to answer.
func (p *Provider) Invoke(ctx context.Context, inst faastype.Instance, inv faastype.Invocation, starting bool) (faastype.Outcome, error) {
	token, err := p.instToken(inst)
	if err != nil {
		return faastype.Outcome{}, fault.Platformf("agent secret: %w", err)
	}
	c := p.clients.Get(inst.Endpoint, token)
	req := api.NewInvokeRequest(inv)
	deadline := time.Now().Add(launchTimeout)
	wrote := false
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		resp, err := c.Invoke(ctx, req)
		if err == nil {
			return resp.Outcome(), nil
		}
		if errors.Is(err, api.ErrCodeMissing) && !wrote {
			// The version's code is written once, when an agent first asks.
			if _, err := codestore.Write(p.Home, inv); err != nil {
				return faastype.Outcome{}, err
			}
			wrote = true
			continue
		}
		if !errors.Is(err, faastype.ErrGone) || !starting || time.Now().After(deadline) {
			if errors.Is(err, api.ErrCodeMissing) {
				return faastype.Outcome{}, fault.Platformf("instance %s: %w", inst.ID, err)
			}
			return faastype.Outcome{}, err
		}
		select {
		case <-ctx.Done():
			return faastype.Outcome{}, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// Stop asks the agent to finish (SIGTERM: it completes what is in flight).
func (p *Provider) Stop(ctx context.Context, inst faastype.Instance) error {
	if p.Alive(inst) {
		if err := syscall.Kill(inst.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fault.Platformf("stop %s: %w", inst.ID, err)
		}
	}
	return nil
}

// Alive reports whether the instance's agent process still runs.
func (p *Provider) Alive(inst faastype.Instance) bool { return proc.Alive(inst.PID, inst.PIDStart) }

// FollowLogs streams an instance's job output from its agent.
func (p *Provider) FollowLogs(ctx context.Context, inst faastype.Instance, since time.Time, fn func(faastype.LogLine)) error {
	endpoint := inst.Endpoint
	if endpoint == "" {
		endpoint = p.Endpoint(inst.ID)
	}
	token, err := p.instToken(inst)
	if err != nil {
		return fault.Platformf("agent secret: %w", err)
	}
	c := client.New(endpoint, token)
	defer c.Close()
	return c.Logs(ctx, since, fn)
}

// InstanceLogs lists the agent logs of a function's instances.
func (p *Provider) InstanceLogs(function string) (map[string]string, error) {
	paths, err := filepath.Glob(faashome.Log(p.Home, Name+"-"+function+"-*"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	prefix := Name + "-" + function + "-"
	for _, path := range paths {
		id := strings.TrimSuffix(filepath.Base(path), ".log")
		// local-a-1 must not take local-a-b-1's log: the rest is a number.
		if _, err := strconv.Atoi(strings.TrimPrefix(id, prefix)); err == nil {
			out[id] = path
		}
	}
	return out, nil
}

// Stats reads the agent's /stats.
func (p *Provider) Stats(ctx context.Context, inst faastype.Instance) (faastype.InstanceStats, error) {
	endpoint := inst.Endpoint
	if endpoint == "" {
		endpoint = p.Endpoint(inst.ID)
	}
	token, err := p.instToken(inst)
	if err != nil {
		return faastype.InstanceStats{}, fault.Platformf("agent secret: %w", err)
	}
	c := client.New(endpoint, token)
	defer c.Close()
	st, err := c.Stats(ctx)
	if err != nil {
		return faastype.InstanceStats{}, err
	}
	return faastype.InstanceStats{RSSBytes: st.RSSBytes, CPUSeconds: st.CPUSeconds, UptimeS: st.UptimeS, IdleS: st.IdleS,
		InFlight: st.InFlight, Workers: st.Workers, Invoked: st.Invoked}, nil
}

// token is an instance's agent token: an HMAC of its id under the home's
// agent key. Any faas process of this home can derive it (an instance
// launched by another process is reached before its row says it is up);
// nothing else can, functions least of all: the key is in FAAS_HOME,
// which no jail has.
func (p *Provider) token(id string) (string, error) {
	if t, ok := p.tokens.Load(id); ok {
		return t.(string), nil
	}
	p.keyMu.Lock()
	if p.key == nil {
		key, err := faashome.Secret(faashome.AgentKey(p.Home))
		if err != nil {
			p.keyMu.Unlock()
			return "", err
		}
		p.key = key
	}
	key := p.key
	p.keyMu.Unlock()
	t := spare.Token(key, id)
	p.tokens.Store(id, t)
	return t, nil
}

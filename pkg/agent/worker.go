package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

//go:embed bootstrap/worker.py
var pythonWorker string

//go:embed bootstrap/worker.js
var nodeWorker string

// DefaultInitTimeout bounds a worker's start-up (importing the function's
// file), as Lambda bounds its init phase. A guest under emulation (TCG)
// gets longer: Config.InitTimeout.
const DefaultInitTimeout = 10 * time.Second

// maxFrame bounds a frame from a worker: a result at the limit, escaped.
const maxFrame = 2*faastype.ResultLimit + 64<<10

// frame is what a worker sends: its readiness once, then one per invocation.
type frame struct {
	Ready  bool   `json:"ready"`
	Stem   bool   `json:"stem"`
	InitMS int64  `json:"init_ms"`
	OK     bool   `json:"ok"`
	Result string `json:"result"`
	Error  string `json:"error"`
	err    error
}

// worker is a long-lived handler process that imported the function once.
type worker struct {
	id       string
	memoryMB int64
	proc     *sandbox.Proc
	reqW     *os.File
	frames   chan frame
	dead     chan struct{}
	sentinel []byte

	mu     sync.Mutex
	logs   *Capped // the current invocation's, nil between them
	job    string  // the current invocation's job
	sink   logSink
	logEnd chan struct{}

	initMS int64
	// fresh says the worker was prestarted and has served no call yet:
	// its first call is a cold start all the same.
	fresh bool
}

// takeFresh reports whether this is the worker's first call, once. Only
// the call that holds the worker asks.
func (w *worker) takeFresh() bool {
	f := w.fresh
	w.fresh = false
	return f
}

// startWorker starts a handler worker for inv's version and waits until it
// has imported the function. On failure the error is the init error, with
// what the worker printed.
func startWorker(h *host, id string, inv faastype.Invocation) (*worker, []byte, error) {
	bootstrap, err := bootstrapFor(inv.Config.Runtime)
	if err != nil {
		return nil, nil, err
	}
	// The command last: from here nothing returns before Start, which
	// takes what it holds (a jail's egress socket).
	c, err := h.command(id, inv, bootstrap...)
	if err != nil {
		return nil, nil, err
	}
	begin := time.Now()
	inv.JobID, inv.Payload = "", nil
	w, err := spawnWorker(h, id, c, append(environ(inv, c.workdir, time.Time{}), c.env...), inv.Config.MemoryMB, inv.Config.CPUs, inv.Secrets)
	if err != nil {
		return nil, nil, err
	}
	if logs, err := w.awaitReady(h, begin, false); err != nil {
		return nil, logs, err
	}
	return w, nil, nil
}

// bootstrapFor is the interpreter's arguments that run a runtime's worker.
func bootstrapFor(rt function.Runtime) ([]string, error) {
	switch rt {
	case function.Python:
		return []string{"-c", pythonWorker}, nil
	case function.Node:
		return []string{"-e", nodeWorker}, nil
	}
	return nil, fault.Platformf("no handler worker for the %s runtime", rt)
}

// spawnWorker starts c as a worker with env (and its sentinel) and reads
// its frames and output; it does not wait for it to be ready.
func spawnWorker(h *host, id string, c command, env []string, memoryMB int64, cpus int, secrets map[string][]byte) (*worker, error) {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	sentinel := "\x1efaas-end:" + hex.EncodeToString(nonce[:])
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			c.started()
			return nil, fault.Platformf("create pipes: %w", err)
		}
		files = append(files, r, w)
	}
	reqR, reqW, respR, respW, logsR, logsW := files[0], files[1], files[2], files[3], files[4], files[5]
	devnull, _ := os.Open(os.DevNull)
	proc, err := h.sb.Start(sandbox.Spec{
		ID: id, Argv: c.argv, Jail: c.jail, Env: append(env, "FAAS_WORKER_SENTINEL="+sentinel), MemoryMB: memoryMB, CPUs: cpus, Secrets: secrets,
		Stdin: devnull, Stdout: logsW, Stderr: logsW, Extra: []*os.File{reqR, respW},
	})
	c.started()
	for _, f := range []*os.File{reqR, respW, logsW, devnull} {
		f.Close()
	}
	if err != nil {
		reqW.Close()
		respR.Close()
		logsR.Close()
		return nil, err
	}
	w := &worker{
		id: id, memoryMB: memoryMB, proc: proc, reqW: reqW,
		frames: make(chan frame, 1), dead: make(chan struct{}), sentinel: []byte(sentinel + "\n"),
		logEnd: make(chan struct{}, 1), sink: h.logs,
	}
	go w.readLogs(logsR)
	go w.readFrames(respR)
	go func() {
		_ = proc.Cmd.Wait()
		close(w.dead)
	}()
	return w, nil
}

// awaitReady waits for the worker's ready frame (a stem's, when stem is
// set), within the init timeout, keeping what it prints meanwhile. On
// failure the worker is stopped, and its output returned with the error.
func (w *worker) awaitReady(h *host, begin time.Time, stem bool) ([]byte, error) {
	initLogs := NewCapped(faastype.LogLimit)
	w.mu.Lock()
	w.logs = initLogs
	w.mu.Unlock()
	initTimeout := h.initTimeout
	if initTimeout <= 0 {
		initTimeout = DefaultInitTimeout
	}
	timer := time.NewTimer(initTimeout)
	defer timer.Stop()
	var f frame
	select {
	case f = <-w.frames:
	case <-timer.C:
		f.err = fmt.Errorf("did not start within %s", initTimeout)
	}
	if !stem || f.err != nil { // a stem that started has printed nothing
		w.waitLogEnd(f.err == nil)
	}
	w.mu.Lock()
	w.logs = nil
	w.mu.Unlock()
	if f.err != nil || !f.Ready && !(stem && f.Stem) {
		msg := f.Error
		if f.err != nil {
			msg = "worker " + w.exitReason(f.err)
		}
		w.stop()
		return initLogs.WithMarker(), errors.New(msg)
	}
	// A cold start costs the process start as well as the import.
	w.initMS = max(f.InitMS, time.Since(begin).Milliseconds())
	return nil, nil
}

// readLogs copies the worker's output to the current invocation's log,
// ending an invocation's log at the worker's sentinel line.
func (w *worker) readLogs(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		chunk, err := br.ReadSlice('\n')
		end := false
		if len(chunk) > 0 && bytes.HasSuffix(chunk, w.sentinel) {
			chunk, end = chunk[:len(chunk)-len(w.sentinel)], true
		}
		w.mu.Lock()
		if w.logs != nil && len(chunk) > 0 {
			_, _ = w.logs.Write(chunk)
			if w.sink != nil && w.job != "" {
				w.sink.Write(w.job, chunk)
			}
		}
		w.mu.Unlock()
		if end {
			select {
			case w.logEnd <- struct{}{}:
			default:
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// readFrames delivers the worker's frames; a broken stream ends the worker.
func (w *worker) readFrames(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		var head [4]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			w.frames <- frame{err: err}
			return
		}
		n := binary.BigEndian.Uint32(head[:])
		if n > maxFrame {
			w.frames <- frame{err: fmt.Errorf("frame of %d bytes is over the limit", n)}
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			w.frames <- frame{err: err}
			return
		}
		var f frame
		if err := json.Unmarshal(body, &f); err != nil {
			f.err = fmt.Errorf("bad frame: %w", err)
		}
		w.frames <- f
		if f.err != nil {
			return
		}
	}
}

// waitLogEnd waits for the sentinel that closes an invocation's log, or,
// when the worker died or must not be waited for, a moment for the pipe.
func (w *worker) waitLogEnd(alive bool) {
	grace := 2 * time.Second
	if !alive {
		grace = 100 * time.Millisecond
	}
	select {
	case <-w.logEnd:
	case <-time.After(grace):
	}
}

// exitReason explains why a worker ended, after err broke its frames.
func (w *worker) exitReason(err error) string {
	select {
	case <-w.dead:
	case <-time.After(time.Second):
		return "stopped answering: " + err.Error()
	}
	if w.proc.OOMKilled() {
		return "was " + oomError(w.memoryMB)
	}
	if c := sandbox.ExitCode(w.proc.Cmd.ProcessState); c != nil {
		return fmt.Sprintf("exited with status %d", *c)
	}
	return "was killed by a signal"
}

type request struct {
	JobID      string `json:"job_id"`
	DeadlineMS int64  `json:"deadline_ms"`
	Payload    string `json:"payload"`
}

// invoke runs one invocation on the worker. alive is false when the worker
// is gone afterwards (crashed, timed out, cancelled) and must be replaced.
func (w *worker) invoke(ctx context.Context, jobID string, payload []byte, timeout time.Duration) (out faastype.Outcome, alive, died bool) {
	logs := NewCapped(faastype.LogLimit)
	w.mu.Lock()
	w.logs, w.job = logs, jobID
	w.mu.Unlock()
	if w.sink != nil {
		defer w.sink.End(jobID)
	}
	select { // a stale end from a previous invocation must not end this one
	case <-w.logEnd:
	default:
	}
	w.proc.ResetPeak()
	out.StartedAt = time.Now()
	body, _ := json.Marshal(request{JobID: jobID, DeadlineMS: out.StartedAt.Add(timeout).UnixMilli(), Payload: string(payload)})
	msg := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(msg, uint32(len(body)))
	copy(msg[4:], body)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var f frame
	var timedOut, interrupted bool
	if _, err := w.reqW.Write(msg); err != nil {
		f.err = err
	} else {
		select {
		case f = <-w.frames:
		case <-timer.C:
			timedOut = true
		case <-ctx.Done():
			interrupted = true
		}
	}
	out.EndedAt = time.Now()
	alive = f.err == nil && !timedOut && !interrupted
	if !alive {
		if f.err != nil {
			// The worker went by itself: its jail's init is reporting how,
			// and a kill now would be all the exit status said.
			select {
			case <-w.dead:
			case <-time.After(time.Second):
			}
		}
		w.proc.Kill()
	}
	w.waitLogEnd(alive)
	w.mu.Lock()
	w.logs, w.job = nil, ""
	w.mu.Unlock()
	out.Logs, out.LogsTruncated = logs.WithMarker(), logs.Overflowed()
	out.PeakMemoryBytes = w.proc.Peak()
	out.Status = faastype.Failed
	switch {
	case cutShort(&out, timedOut, interrupted, timeout):
	case f.err != nil:
		out.Error = "the worker " + w.exitReason(f.err)
		died = true
		code := sandbox.ExitCode(w.proc.Cmd.ProcessState)
		out.ExitCode = code
	case !f.OK:
		out.Error = f.Error
		one := 1
		out.ExitCode = &one
	case len(f.Result) > faastype.ResultLimit:
		out.Error = fmt.Sprintf("result is %d bytes, over the %d MiB limit", len(f.Result), faastype.ResultLimit>>20)
	default:
		out.Status = faastype.Completed
		out.Result = []byte(f.Result)
		zero := 0
		out.ExitCode = &zero
	}
	return out, alive, died
}

// stop ends the worker: closing its input lets it exit cleanly; the kill
// makes sure.
func (w *worker) stop() {
	w.reqW.Close()
	select {
	case <-w.dead:
	case <-time.After(200 * time.Millisecond):
	}
	w.proc.Release()
}

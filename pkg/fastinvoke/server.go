// Package fastinvoke is the fast path of `faas invoke NAME`: a client in C
// (client.c) that runs before the Go runtime starts and hands the command
// line, with its standard streams, to the local agent of a warm instance of
// the function; and this server, which that agent runs. The agent runs the
// command line through the same code a full faas runs (pkg/app.Run), so the
// job it records, the output and the exit code are the full path's.
//
// The socket is in FAAS_HOME/run (0700), made 0600, like the agents' own:
// no function sees FAAS_HOME, and the server takes calls only from
// processes of its own user running its own executable.
package fastinvoke

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
)

// The protocol's words; protocol.h has them for client.c.
const (
	magic     = "FAASFI01"
	maxBody   = 8 << 20
	maxName   = 40
	prefix    = "invoke-"
	accept    = 'A'
	decline   = 'D'
	interrupt = "i"
	// Signal + N as a call's exit code makes the client die of signal N.
	Signal = 256
)

// maxPath is the longest socket path the server listens on: the agents'
// own limit (pkg/faashome.AgentSocket), under the 107 bytes of sun_path.
const maxPath = 100

// SocketPath is where a local agent of function takes `faas invoke` calls
// in home; "" when the path is too long for a unix socket (no fast path).
func SocketPath(home, function string) string {
	p := filepath.Join(home, "run", prefix+function+".sock")
	if len(p) >= maxPath {
		return ""
	}
	return p
}

// spareSocket is where a home's spare agent takes the calls of functions
// that have no warm agent (its client tries it second).
const spareSocket = "spare-invoke"

// SpareSocketPath is where the home's spare agent takes `faas invoke` calls
// of any function (pkg/spare); "" when the path is too long.
func SpareSocketPath(home string) string {
	p := filepath.Join(home, "run", spareSocket+".sock")
	if len(p) >= maxPath {
		return ""
	}
	return p
}

// Call is one command line handed over by a client.
type Call struct {
	// Args is the command line without the program's name.
	Args []string
	// Env is the client's environment.
	Env []string
	// Stdin, Stdout and Stderr are the client's.
	Stdin, Stdout, Stderr *os.File
	// PID is the client's process.
	PID int
}

// Getenv is the client's os.Getenv.
func (c *Call) Getenv(key string) string {
	for i := len(c.Env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(c.Env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (c *Call) close() {
	for _, f := range []*os.File{c.Stdin, c.Stdout, c.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// Handler takes calls.
type Handler interface {
	// Accept says whether to run the call; a call declined is run by the
	// client's own full path. It must not read the client's stdin.
	Accept(*Call) bool
	// Run runs an accepted call and returns its exit code, or Signal + N
	// for the client to die of signal N. ctx ends when the client is
	// interrupted or gone.
	Run(ctx context.Context, c *Call) int
}

// ErrTaken is Listen's error when another process serves the socket.
var ErrTaken = errors.New("another agent serves this socket")

// Listen opens the socket at path (0600; a stale one from a dead agent is
// replaced), or fails with ErrTaken when another live process serves it.
func Listen(path string) (*net.UnixListener, error) {
	if path == "" {
		return nil, errors.New("no socket path (FAAS_HOME is too deep)")
	}
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	l, err := net.ListenUnix("unix", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		if c, derr := net.DialTimeout("unix", path, time.Second); derr == nil {
			c.Close()
			return nil, ErrTaken
		}
		os.Remove(path)
		l, err = net.ListenUnix("unix", addr)
	}
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(true)
	return l, nil
}

// Server serves calls on a listener.
type Server struct {
	l    *net.UnixListener
	h    Handler
	self os.FileInfo
	wg   sync.WaitGroup
	once sync.Once
}

// NewServer serves h on l; Serve runs it, Close stops it.
func NewServer(l *net.UnixListener, h Handler) (*Server, error) {
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("fast invoke: %w", err)
	}
	return &Server{l: l, h: h, self: self}, nil
}

// Serve takes calls until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// Stop stops taking calls (the socket goes), and does not wait for those
// running: one of them may be what stops it.
func (s *Server) Stop() {
	s.once.Do(func() { _ = s.l.Close() })
}

// Close stops taking calls (the socket goes) and waits for those running.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = s.l.Close() })
	s.wg.Wait()
	return err
}

// serve runs one call. Before it answers accept, nothing of the call has
// run and the client may still run it itself.
func (s *Server) serve(c *net.UnixConn) {
	defer c.Close()
	pid, ok := s.peer(c)
	if !ok {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	call, err := readCall(c)
	if err != nil {
		return
	}
	defer call.close()
	call.PID = pid
	_ = c.SetReadDeadline(time.Time{})
	if !s.h.Accept(call) {
		_, _ = c.Write([]byte{decline})
		return
	}
	if _, err := c.Write([]byte{accept}); err != nil {
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		// A byte is the client's interrupt (Ctrl-C): the call ends as an
		// interrupted faas' does. Its end without one is its death: the
		// call ends as a killed faas' does, without a word.
		var b [1]byte
		if n, _ := c.Read(b[:]); n == 1 {
			cancel(context.Canceled)
			return
		}
		cancel(faastype.ErrCallerGone)
		call.close()
	}()
	code := s.run(ctx, call)
	// The client's streams close before it exits, so that whoever reads
	// its stdout sees the end when the client ends.
	call.close()
	var out [4]byte
	binary.LittleEndian.PutUint32(out[:], uint32(code))
	_, _ = c.Write(out[:])
}

func (s *Server) run(ctx context.Context, call *Call) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(call.Stderr, "error: faas agent: %v; run the command again with FAAS_FAST_INVOKE=0 and report it\n", r)
			code = 3
		}
	}()
	return s.h.Run(ctx, call)
}

// peer checks that the client is this user's process running this very
// executable (an agent left from an older faas declines a newer one).
func (s *Server) peer(c *net.UnixConn) (int, bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return 0, false
	}
	if int(cred.Uid) != os.Getuid() {
		return 0, false
	}
	exe, err := os.Stat("/proc/" + strconv.Itoa(int(cred.Pid)) + "/exe")
	if err != nil || !os.SameFile(exe, s.self) {
		_, _ = c.Write([]byte{decline})
		return 0, false
	}
	return int(cred.Pid), true
}

// readCall reads a request: the magic, the body's length, the command line
// and the environment (counts of length-prefixed strings, little-endian),
// with the client's stdin, stdout and stderr attached to its first bytes.
func readCall(c *net.UnixConn) (*Call, error) {
	head := make([]byte, len(magic)+4)
	oob := make([]byte, syscall.CmsgSpace(3*4))
	n, oobn, _, _, err := c.ReadMsgUnix(head, oob)
	files, ferr := unixRights(oob[:oobn])
	call := &Call{}
	if len(files) == 3 {
		call.Stdin, call.Stdout, call.Stderr = files[0], files[1], files[2]
	} else {
		for _, f := range files {
			f.Close()
		}
		if ferr == nil {
			ferr = fmt.Errorf("fast invoke: %d streams, want 3", len(files))
		}
	}
	if err == nil {
		err = ferr
	}
	if err == nil && n < len(head) {
		_, err = io.ReadFull(c, head[n:])
	}
	if err == nil && string(head[:len(magic)]) != magic {
		err = errors.New("fast invoke: not a request")
	}
	var body []byte
	if err == nil {
		size := binary.LittleEndian.Uint32(head[len(magic):])
		if size > maxBody {
			err = errors.New("fast invoke: request too large")
		} else {
			body = make([]byte, size)
			_, err = io.ReadFull(c, body)
		}
	}
	if err == nil {
		if call.Args, body, err = strings32(body); err == nil {
			call.Env, body, err = strings32(body)
		}
		if err == nil && len(body) != 0 {
			err = errors.New("fast invoke: trailing bytes")
		}
	}
	if err != nil {
		call.close()
		return nil, err
	}
	return call, nil
}

// unixRights is the files of the SCM_RIGHTS messages in oob.
func unixRights(oob []byte) ([]*os.File, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for i, fd := range fds {
			syscall.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), []string{"stdin", "stdout", "stderr"}[min(i, 2)]))
		}
	}
	return files, nil
}

// strings32 reads a count of length-prefixed strings off b.
func strings32(b []byte) ([]string, []byte, error) {
	bad := errors.New("fast invoke: malformed request")
	if len(b) < 4 {
		return nil, nil, bad
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n)*4 > uint64(len(b)) {
		return nil, nil, bad
	}
	out := make([]string, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, nil, bad
		}
		l := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, nil, bad
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	return out, b, nil
}

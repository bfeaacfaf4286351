package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// The architecture's limit (L): a minimal Go HTTP server that hands each
// request's body over a pipe to one persistent Python worker calling the
// same handler, and answers with its result. No database, no token, no
// jail, no agent: what a warm handler behind HTTP costs on this machine,
// and so the most faas serve could do with this architecture.
//
// It runs as a process of its own (this program, re-executed with
// -limit-server), so that its CPU can be counted apart from the load
// generator's.

// limitWorker is the worker: 4-byte big-endian length, then the payload;
// the answer framed the same way.
const limitWorker = `import importlib.util, json, struct, sys
spec = importlib.util.spec_from_file_location("fn", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
handler = mod.handler
rd, wr = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = rd.read(4)
    if len(head) < 4:
        break
    data = rd.read(struct.unpack(">I", head)[0])
    try:
        event = json.loads(data)
    except ValueError:
        event = data.decode()
    out = handler(event, None)
    body = out.encode() if isinstance(out, str) else json.dumps(out).encode()
    wr.write(struct.pack(">I", len(body)) + body)
    wr.flush()
`

// serveLimit is the limit server's process: python runs the worker on the
// handler file; the listening address goes to stdout.
func serveLimit(python, worker, handler string) error {
	cmd := exec.Command(python, worker, handler)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	out := bufio.NewReader(outPipe)
	var mu sync.Mutex
	call := func(payload []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		frame := make([]byte, 4+len(payload))
		binary.BigEndian.PutUint32(frame, uint32(len(payload)))
		copy(frame[4:], payload)
		if _, err := in.Write(frame); err != nil {
			return nil, err
		}
		var head [4]byte
		if _, err := io.ReadFull(out, head[:]); err != nil {
			return nil, err
		}
		res := make([]byte, binary.BigEndian.Uint32(head[:]))
		_, err := io.ReadFull(out, res)
		return res, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err == nil {
			payload, err = call(payload)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
}

// limitServer is a running limit server.
type limitServer struct {
	cmd *exec.Cmd
	url string
}

// startLimit starts the limit server on handler, with the interpreter
// faas' workers run (python3 as found on PATH, its launcher resolved).
func startLimit(dir, handler string) (*limitServer, error) {
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, err
	}
	real, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return nil, fmt.Errorf("find python3's interpreter: %w", err)
	}
	worker := dir + "/limit_worker.py"
	if err := os.WriteFile(worker, []byte(limitWorker), 0o644); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-limit-server", strings.TrimSpace(string(real)), worker, handler)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the limit server did not start: %w", err)
	}
	return &limitServer{cmd: cmd, url: "http://" + strings.TrimSpace(addr) + "/"}, nil
}

func (l *limitServer) stop() {
	_ = l.cmd.Process.Kill()
	_ = l.cmd.Wait()
}

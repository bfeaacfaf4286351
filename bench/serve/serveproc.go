package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/faashome"
)

// serveProc is a faas serve of its own FAAS_HOME under dir, with a token.
type serveProc struct {
	home, base, token string
	srv               *exec.Cmd
	env               []string
}

// startServe starts faas serve on a loopback port with the home
// dir/name; extra goes into its environment (and its commands').
func startServe(dir, faas, name string, extra ...string) (*serveProc, error) {
	home := filepath.Join(dir, name)
	s := &serveProc{home: home, env: benchutil.Env(home, append([]string{"NO_COLOR=1"}, extra...)...)}
	tok, err := s.run(faas, false, "serve", "token", "create", "bench")
	if err != nil {
		return nil, err
	}
	s.token = tok
	s.srv = exec.Command(faas, "serve", "--addr", "127.0.0.1:0", "--quiet", "--max-inflight", "100000")
	s.srv.Env = s.env
	s.srv.Stderr = os.Stderr
	if err := s.srv.Start(); err != nil {
		return nil, err
	}
	addr, err := waitServer(home)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.base = "http://" + addr
	return s, nil
}

// run runs a faas command on this home: through the server (as the
// token's owner) when remote.
func (s *serveProc) run(faas string, remote bool, args ...string) (string, error) {
	cmd := exec.Command(faas, args...)
	cmd.Env = s.env
	if remote {
		cmd.Env = append(append([]string{}, s.env...), "FAAS_SERVER="+s.base, "FAAS_TOKEN="+s.token)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("faas %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func (s *serveProc) stop() {
	if s.srv.Process != nil {
		_ = s.srv.Process.Signal(os.Interrupt)
		_ = s.srv.Wait()
	}
	scripttest.StopAgents(s.home)
}

// cpu is the server, its agents and their workers.
func (s *serveProc) cpu() cpuSet { return faasProcesses(s.srv.Process.Pid, s.home) }

// serveDefault starts a server on the home dir/name and deploys the
// handler file fn through it with the default scaling (what a user who
// sets nothing gets); it returns the server and the function's invoke URL.
func serveDefault(dir, faas, name, fn string) (*serveProc, string, error) {
	s, err := startServe(dir, faas, name)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.run(faas, true, "deploy", fn); err != nil {
		s.stop()
		return nil, "", err
	}
	return s, s.invokeURL("noop"), nil
}

func (s *serveProc) invokeURL(fn string) string { return s.base + "/v1/functions/" + fn + "/invoke" }

func waitServer(home string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := faashome.ReadServer(home); st.Running {
			if resp, err := http.Get("http://" + st.Addr + "/healthz"); err == nil {
				resp.Body.Close()
				return st.Addr, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("faas serve did not come up")
}

type hist struct {
	bounds []float64
	cum    []uint64
}

// scrape reads the overhead histogram from /metrics.
func scrape(base, token string) (hist, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hist{}, err
	}
	defer resp.Body.Close()
	var h hist
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `faas_platform_overhead_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		b := math.Inf(1)
		if le != "+Inf" {
			b, _ = strconv.ParseFloat(le, 64)
		}
		c, _ := strconv.ParseUint(count, 10, 64)
		h.bounds = append(h.bounds, b)
		h.cum = append(h.cum, c)
	}
	return h, sc.Err()
}

func diff(a, b hist) hist {
	out := hist{bounds: a.bounds, cum: make([]uint64, len(a.cum))}
	for i := range a.cum {
		out.cum[i] = a.cum[i]
		if i < len(b.cum) {
			out.cum[i] -= b.cum[i]
		}
	}
	return out
}

// add is a's and b's counts together (b may be empty).
func (h hist) add(b hist) hist {
	if len(h.cum) == 0 {
		return b
	}
	out := hist{bounds: h.bounds, cum: append([]uint64(nil), h.cum...)}
	for i := range out.cum {
		if i < len(b.cum) {
			out.cum[i] += b.cum[i]
		}
	}
	return out
}

func (h hist) count() uint64 {
	if len(h.cum) == 0 {
		return 0
	}
	return h.cum[len(h.cum)-1]
}

// q is a quantile of the histogram in ms.
func (h hist) q(p float64) float64 { return benchutil.Quantile(p, h.bounds, h.cum) * 1e3 }

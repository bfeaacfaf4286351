package agent

import (
	"bytes"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
)

// maxLine bounds one streamed line; the job's stored log keeps it whole.
const maxLine = 64 << 10

// hub fans the lines of running jobs out to followers, and keeps the most
// recent ones so that a follower that connects a moment late (to a new
// instance) still sees them. A slow follower loses lines; it never slows a
// function down.
type hub struct {
	instance, function string

	mu      sync.Mutex
	subs    map[chan api.LogLine]struct{}
	partial map[string][]byte
	recent  []api.LogLine
	next    int
	closed  bool
}

const recentLines = 2048

func newHub(instance, function string) *hub {
	return &hub{instance: instance, function: function, subs: map[chan api.LogLine]struct{}{},
		partial: map[string][]byte{}, recent: make([]api.LogLine, 0, recentLines)}
}

// rename gives the lines to come another instance and function (a spare
// that became an instance).
func (h *hub) rename(instance, function string) {
	h.mu.Lock()
	h.instance, h.function = instance, function
	h.mu.Unlock()
}

// Write takes output of a job, publishing each complete line.
func (h *hub) Write(job string, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	buf := append(h.partial[job], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		h.publish(job, buf[:i])
		buf = buf[i+1:]
	}
	if len(buf) > maxLine {
		h.publish(job, buf)
		buf = nil
	}
	if len(buf) == 0 {
		delete(h.partial, job)
		return
	}
	h.partial[job] = append([]byte(nil), buf...)
}

// End publishes what is left of a job's last line.
func (h *hub) End(job string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if buf := h.partial[job]; len(buf) > 0 {
		h.publish(job, buf)
	}
	delete(h.partial, job)
}

func (h *hub) publish(job string, line []byte) {
	if len(line) > maxLine {
		line = append(line[:maxLine:maxLine], []byte("[faas: line cut at 64 KiB]")...)
	}
	l := api.LogLine{Time: time.Now(), JobID: job, Instance: h.instance, Function: h.function, Line: string(line)}
	if len(h.recent) < recentLines {
		h.recent = append(h.recent, l)
	} else {
		h.recent[h.next] = l
		h.next = (h.next + 1) % recentLines
	}
	for c := range h.subs {
		select {
		case c <- l:
		default:
		}
	}
}

// subscribe returns the lines since a time and a channel of those to come.
func (h *hub) subscribe(since time.Time) ([]api.LogLine, chan api.LogLine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var past []api.LogLine
	if !since.IsZero() {
		n := len(h.recent)
		for i := 0; i < n; i++ {
			l := h.recent[(h.next+i)%n]
			if !l.Time.Before(since) {
				past = append(past, l)
			}
		}
	}
	c := make(chan api.LogLine, 4096)
	if h.closed {
		close(c)
		return past, c
	}
	h.subs[c] = struct{}{}
	return past, c
}

func (h *hub) unsubscribe(c chan api.LogLine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[c]; ok {
		delete(h.subs, c)
		close(c)
	}
}

// close ends every follower's stream, so that the agent can stop.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.subs {
		delete(h.subs, c)
		close(c)
	}
}

package server

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// histogram is a Prometheus histogram with fixed upper bounds, in seconds.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64 // one per bound, plus +Inf
	sumNS  atomic.Int64
	total  atomic.Uint64
}

func newHistogram(bounds ...float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(h.bounds, s)
	h.counts[i].Add(1)
	h.sumNS.Add(int64(d))
	h.total.Add(1)
}

func (h *histogram) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n", name, cum)
	fmt.Fprintf(w, "%s_sum %s\n%s_count %d\n", name, strconv.FormatFloat(float64(h.sumNS.Load())/1e9, 'g', -1, 64), name, cum)
}

// counterVec is a counter with one label.
type counterVec struct {
	mu     sync.Mutex
	label  string
	values map[string]uint64
}

func newCounterVec(label string) *counterVec {
	return &counterVec{label: label, values: map[string]uint64{}}
}

func (c *counterVec) inc(v string) {
	c.mu.Lock()
	c.values[v]++
	c.mu.Unlock()
}

func (c *counterVec) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	c.mu.Lock()
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s{%s=%q} %d\n", name, c.label, k, c.values[k])
	}
	c.mu.Unlock()
}

// metrics are what /metrics shows one owner: that owner's calls and jobs
// only, with no function or owner names in any series.
type metrics struct {
	invocations *counterVec // by status: completed, failed, timeout, platform
	requests    *counterVec // by HTTP status code
	coldStarts  atomic.Uint64
	async       atomic.Uint64
	throttled   atomic.Uint64
	duration    *histogram // the function's own run time
	overhead    *histogram // the request's time in faas, less the function's
}

func newMetrics() *metrics {
	// Fine buckets below a millisecond: the overhead target is ≤ 1 ms.
	fine := []float64{50e-6, 100e-6, 200e-6, 300e-6, 400e-6, 500e-6, 750e-6, 1e-3, 1.5e-3, 2e-3, 3e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}
	return &metrics{
		invocations: newCounterVec("status"),
		requests:    newCounterVec("code"),
		duration:    newHistogram(append([]float64{}, append(fine, 2.5, 5, 10, 30, 60, 300, 900)...)...),
		overhead:    newHistogram(fine...),
	}
}

func (m *metrics) write(w io.Writer, waiting int, inflight int64) {
	m.invocations.write(w, "faas_invocations_total", "Invocations that ended, by status (platform: faas failed, not the function).")
	fmt.Fprintf(w, "# HELP faas_errors_total Invocations that did not complete.\n# TYPE faas_errors_total counter\nfaas_errors_total %d\n", m.errors())
	fmt.Fprintf(w, "# HELP faas_cold_starts_total Invocations that started an instance.\n# TYPE faas_cold_starts_total counter\nfaas_cold_starts_total %d\n", m.coldStarts.Load())
	fmt.Fprintf(w, "# HELP faas_async_submitted_total Jobs queued by async invokes.\n# TYPE faas_async_submitted_total counter\nfaas_async_submitted_total %d\n", m.async.Load())
	fmt.Fprintf(w, "# HELP faas_throttled_total Requests refused with 429 by the per-owner limit.\n# TYPE faas_throttled_total counter\nfaas_throttled_total %d\n", m.throttled.Load())
	m.requests.write(w, "faas_http_requests_total", "HTTP requests, by status code.")
	m.duration.write(w, "faas_invocation_duration_seconds", "How long functions ran.")
	m.overhead.write(w, "faas_platform_overhead_seconds", "Time a synchronous invoke spent in faas itself: the request's time less the function's.")
	fmt.Fprintf(w, "# HELP faas_queue_waiting Jobs waiting in the queue.\n# TYPE faas_queue_waiting gauge\nfaas_queue_waiting %d\n", waiting)
	fmt.Fprintf(w, "# HELP faas_inflight_invocations Synchronous invokes in progress.\n# TYPE faas_inflight_invocations gauge\nfaas_inflight_invocations %d\n", inflight)
}

func (m *metrics) errors() uint64 {
	m.invocations.mu.Lock()
	defer m.invocations.mu.Unlock()
	var n uint64
	for k, v := range m.invocations.values {
		if k != "completed" {
			n += v
		}
	}
	return n
}

package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runtimeMetrics are the server process's own: Go's runtime and the
// process (CPU, memory, file descriptors). Every scrape shows them; they
// say nothing of any owner.
var runtimeMetrics = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}()

// histogram observes durations in seconds.
type histogram struct{ h prometheus.Histogram }

func (h histogram) observe(d time.Duration) { h.h.Observe(d.Seconds()) }

// counterVec is a counter with one label. Each label's counter is
// looked up once: WithLabelValues hashes the label on every call.
type counterVec struct {
	v        *prometheus.CounterVec
	children *sync.Map // label → prometheus.Counter
}

func newCounterVec(opts prometheus.CounterOpts, label string) counterVec {
	return counterVec{v: prometheus.NewCounterVec(opts, []string{label}), children: &sync.Map{}}
}

func (c counterVec) inc(label string) {
	if ch, ok := c.children.Load(label); ok {
		ch.(prometheus.Counter).Inc()
		return
	}
	ch, _ := c.children.LoadOrStore(label, c.v.WithLabelValues(label))
	ch.(prometheus.Counter).Inc()
}

// invocations counts ended runs by status, and those that did not
// complete as errors.
type invocations struct {
	byStatus counterVec
	errors   prometheus.Counter
}

func (i invocations) inc(status string) {
	i.byStatus.inc(status)
	if status != "completed" {
		i.errors.Inc()
	}
}

// metrics are what /metrics shows one owner: that owner's calls and jobs
// only, with no function or owner names in any series, in a registry of
// the owner's own.
type metrics struct {
	reg         *prometheus.Registry
	invocations invocations // by status: completed, failed, timeout, platform
	requests    counterVec  // by HTTP status code
	coldStarts  prometheus.Counter
	async       prometheus.Counter
	throttled   prometheus.Counter
	duration    histogram // the function's own run time
	overhead    histogram // the request's time in faas, less the function's
}

func newMetrics() *metrics {
	// Fine buckets below a millisecond: the overhead target is ≤ 1 ms.
	fine := []float64{50e-6, 100e-6, 200e-6, 300e-6, 400e-6, 500e-6, 750e-6, 1e-3, 1.5e-3, 2e-3, 3e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		invocations: invocations{
			byStatus: newCounterVec(prometheus.CounterOpts{Name: "faas_invocations_total",
				Help: "Invocations that ended, by status (platform: faas failed, not the function)."}, "status"),
			errors: counter("faas_errors_total", "Invocations that did not complete."),
		},
		requests: newCounterVec(prometheus.CounterOpts{Name: "faas_http_requests_total",
			Help: "HTTP requests, by status code."}, "code"),
		coldStarts: counter("faas_cold_starts_total", "Invocations that started an instance."),
		async:      counter("faas_async_submitted_total", "Jobs queued by async invokes."),
		throttled:  counter("faas_throttled_total", "Requests refused with 429 by the per-owner limit."),
		duration: histogram{prometheus.NewHistogram(prometheus.HistogramOpts{Name: "faas_invocation_duration_seconds",
			Help: "How long functions ran.", Buckets: append(append([]float64{}, fine...), 2.5, 5, 10, 30, 60, 300, 900)})},
		overhead: histogram{prometheus.NewHistogram(prometheus.HistogramOpts{Name: "faas_platform_overhead_seconds",
			Help: "Time a synchronous invoke spent in faas itself: the request's time less the function's.", Buckets: fine})},
	}
	// Every status from the start: a rate over a series that appears
	// only with its first failure misses that failure.
	for _, status := range []string{"completed", "failed", "timeout", "platform"} {
		m.invocations.byStatus.children.Store(status, m.invocations.byStatus.v.WithLabelValues(status))
	}
	m.reg.MustRegister(m.invocations.byStatus.v, m.invocations.errors, m.requests.v, m.coldStarts, m.async, m.throttled,
		m.duration.h, m.overhead.h)
	return m
}

// handler serves the owner's series, the two gauges read for this scrape
// and the process's, as Prometheus text or OpenMetrics, as the scraper
// asks (Accept).
func (m *metrics) handler(waiting int, inflight int64) http.Handler {
	now := prometheus.NewRegistry()
	now.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faas_queue_waiting", Help: "Jobs waiting in the queue."},
			func() float64 { return float64(waiting) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faas_inflight_invocations", Help: "Synchronous invokes in progress."},
			func() float64 { return float64(inflight) }),
	)
	return promhttp.HandlerFor(prometheus.Gatherers{m.reg, now, runtimeMetrics}, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

package server

import (
	"testing"
	"time"
)

// BenchmarkMetricsPerInvoke is what one synchronous invoke adds to the
// metrics: its request's code, its status, its duration and overhead.
func BenchmarkMetricsPerInvoke(b *testing.B) {
	m := newMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.requests.inc("200")
			m.invocations.inc("completed")
			m.duration.observe(3 * time.Millisecond)
			m.overhead.observe(400 * time.Microsecond)
		}
	})
}

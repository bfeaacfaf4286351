package cluster

import (
	"context"
	"time"

	"github.com/faasdev/faas/pkg/provider"
)

// cpuReading is an instance's CPU seconds when last read.
type cpuReading struct {
	at  time.Time
	cpu float64
}

// withStats fills the heartbeat's instances' memory and CPU from their
// providers' stats (each read bounded, so a stuck agent cannot silence
// the heartbeat), CPU % over the time since the last reading.
func (w *Worker) withStats(hb *Heartbeat) {
	if w.cpu == nil {
		w.cpu = map[string]cpuReading{}
	}
	seen := map[string]bool{}
	for i := range hb.Instances {
		in := &hb.Instances[i]
		seen[in.ID] = true
		sr, ok := w.o.Providers[in.Provider].(provider.StatsReader)
		inst, ready := w.instance(in.ID)
		if !ok || !ready {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		st, err := sr.Stats(ctx, inst)
		cancel()
		if err != nil {
			continue
		}
		now := time.Now()
		in.RSSBytes = st.RSSBytes
		if prev, ok := w.cpu[in.ID]; ok && now.After(prev.at) {
			in.CPUPct = max(0, 100*(st.CPUSeconds-prev.cpu)/now.Sub(prev.at).Seconds())
		}
		w.cpu[in.ID] = cpuReading{at: now, cpu: st.CPUSeconds}
	}
	for id := range w.cpu {
		if !seen[id] {
			delete(w.cpu, id)
		}
	}
}

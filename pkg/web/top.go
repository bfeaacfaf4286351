package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
)

// topWindow is how far back the charts of CPU and memory look.
const topWindow = 15 * time.Minute

// topView is the top page's data: `faas top -o json`'s record and the
// charts of the instances' samples.
type topView struct {
	Top        api.Top
	CPU, Mem   template.HTML
	Instances  []string
	WindowMins int
}

func (d *Dashboard) topPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	// Each look samples, as `faas top` does; the session's previous look
	// turns CPU seconds into a percentage over the time between them.
	s.mu.Lock()
	prev := s.top
	s.mu.Unlock()
	snap, err := eng.Top(r.Context(), prev)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	s.mu.Lock()
	s.top = &snap
	s.mu.Unlock()
	now := d.o.Now()
	from := now.Add(-topWindow)
	samples, err := eng.Usage(r.Context(), from)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	// The charts span the readings there are: at least two minutes, at
	// most the window.
	if len(samples) > 0 && samples[0].Time.After(from) {
		from = samples[0].Time
	}
	from = minTime(from, now.Add(-2*time.Minute))
	span := now.Sub(from)
	cpu, mem := map[string][]point{}, map[string][]point{}
	for _, x := range samples {
		at := float64(x.Time.Sub(from)) / float64(span)
		cpu[x.Instance] = append(cpu[x.Instance], point{at, x.CPUPct})
		mem[x.Instance] = append(mem[x.Instance], point{at, float64(x.MemUsed) / (1 << 20)})
	}
	var names []string
	for n := range cpu {
		names = append(names, n)
	}
	sort.Strings(names)
	var cpuLines, memLines []series
	for i, n := range names {
		class := fmt.Sprintf("s%d", i%6)
		cpuLines = append(cpuLines, series{Name: n, Class: class, Points: cpu[n]})
		memLines = append(memLines, series{Name: n, Class: class, Points: mem[n]})
	}
	first, last := from.Local().Format("15:04:05"), now.Local().Format("15:04:05")
	tv := topView{Top: api.NewTop(snap), Instances: names, WindowMins: int(topWindow.Minutes()),
		CPU: lineChart("cpu-chart", "CPU per instance from "+first+" to "+last, cpuLines, 0, first, last, func(v float64) string { return fmt.Sprintf("%.3g%%", v) }),
		Mem: lineChart("mem-chart", "Memory per instance from "+first+" to "+last, memLines, 0, first, last, func(v float64) string { return fmt.Sprintf("%.3g MiB", v) })}
	v := d.view(s, "Top", "top", "", tv)
	v.Live = true
	d.render(w, http.StatusOK, "top.html", v)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

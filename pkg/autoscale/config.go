package autoscale

import (
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/config"
)

func init() {
	d := Defaults()
	config.Register(
		config.Key{Name: "autoscale.tick", Default: "10s", Help: "how often the watcher samples and decides", Check: config.Duration},
		config.Key{Name: "autoscale.threshold", Default: strconv.FormatFloat(d.Threshold, 'f', -1, 64), Help: "vertical: CPU or memory share that, held for the window, doubles an instance", Check: config.Fraction},
		config.Key{Name: "autoscale.window", Default: d.Window.String(), Help: "vertical: how long the threshold must hold", Check: config.Duration},
		config.Key{Name: "autoscale.max_cpus", Default: strconv.Itoa(d.MaxCPUs), Help: "vertical: most vCPUs an instance grows to", Check: config.Count(1024)},
		config.Key{Name: "autoscale.max_memory_mb", Default: strconv.FormatInt(d.MaxMemoryMB, 10), Help: "vertical: most memory (MiB) an instance grows to", Check: config.Count(1 << 30)},
		config.Key{Name: "autoscale.max_disk_mb", Default: strconv.FormatInt(d.MaxDiskMB, 10), Help: "vertical: most disk (MiB) an instance grows to", Check: config.Count(1 << 40)},
		config.Key{Name: "autoscale.target", Default: strconv.FormatFloat(d.Target, 'f', -1, 64), Help: "horizontal: jobs in flight per slot to aim for", Check: config.Positive},
		config.Key{Name: "autoscale.stable_window", Default: d.StableWindow.String(), Help: "horizontal: the window load is averaged over", Check: config.Duration},
		config.Key{Name: "autoscale.panic_window", Default: d.PanicWindow.String(), Help: "horizontal: the short window of a burst", Check: config.Duration},
		config.Key{Name: "autoscale.panic_factor", Default: strconv.FormatFloat(d.PanicFactor, 'f', -1, 64), Help: "horizontal: load over target × this in the panic window scales out at once", Check: config.Positive},
		config.Key{Name: "autoscale.idle", Default: d.Idle.String(), Help: "scale to zero after this long without jobs (min_instances 0)", Check: config.Duration},
	)
}

// FromConfig reads the settings and the tick from stored values.
func FromConfig(stored map[string]string) (Settings, time.Duration) {
	dur := func(k string) time.Duration { d, _ := time.ParseDuration(config.Value(stored, k)); return d }
	num := func(k string) float64 { f, _ := strconv.ParseFloat(config.Value(stored, k), 64); return f }
	s := Settings{
		Threshold: num("autoscale.threshold"), Window: dur("autoscale.window"),
		MaxCPUs: int(num("autoscale.max_cpus")), MaxMemoryMB: int64(num("autoscale.max_memory_mb")), MaxDiskMB: int64(num("autoscale.max_disk_mb")),
		Target: num("autoscale.target"), StableWindow: dur("autoscale.stable_window"), PanicWindow: dur("autoscale.panic_window"),
		PanicFactor: num("autoscale.panic_factor"), Idle: dur("autoscale.idle"),
	}
	return s, dur("autoscale.tick")
}

package api

import (
	"time"

	"github.com/faasdev/faas/pkg/engine"
)

// Top is what `faas top -o json` prints and GET /v1/top answers: the
// instances as last sampled and the functions' recent activity.
type Top struct {
	Time      time.Time     `json:"time"`
	WindowS   int           `json:"window_s"`
	Instances []TopInstance `json:"instances"`
	Functions []TopFunction `json:"functions"`
	Watcher   TopWatcher    `json:"watcher"`
	Events    []string      `json:"scale_events"`
	// Hosts are the cluster's hosts (docs/cluster.md); empty without one.
	Hosts []TopHost `json:"hosts"`
}

// TopHost is one host of the cluster in Top.
type TopHost struct {
	Name          string    `json:"name"`
	Address       string    `json:"address"`
	State         string    `json:"state"`
	Capacity      int       `json:"capacity"`
	Load          int       `json:"load"`
	Instances     int       `json:"instances"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
	Local         bool      `json:"local"`
}

// TopInstance is one instance in Top.
type TopInstance struct {
	ID          string  `json:"name"`
	Function    string  `json:"function"`
	Provider    string  `json:"provider"`
	State       string  `json:"state"`
	CPUs        int     `json:"vcpus"`
	MemoryUsed  int64   `json:"memory_used_bytes"`
	MemoryTotal int64   `json:"memory_total_bytes"`
	DiskUsed    int64   `json:"disk_used_bytes"`
	DiskTotal   int64   `json:"disk_total_bytes"`
	CPUPct      float64 `json:"cpu_pct"`
	Load        float64 `json:"load"`
	InFlight    int     `json:"jobs_in_flight"`
	IdleS       float64 `json:"idle_s"`
	Workers     int     `json:"workers"`
	Host        string  `json:"host"`
}

// TopFunction is one function in Top.
type TopFunction struct {
	Name       string  `json:"name"`
	Version    int     `json:"version"`
	Instances  int     `json:"instances"`
	PerMinute  float64 `json:"invocations_per_min"`
	Errors     int     `json:"errors"`
	P50MS      float64 `json:"p50_ms"`
	P95MS      float64 `json:"p95_ms"`
	ColdStarts int     `json:"cold_starts"`
	CostPico   int64   `json:"cost_month_pico"`
	CostUSD    string  `json:"cost_month_usd"`
	// Spark counts invocations per minute over the window, oldest first.
	Spark []int `json:"invocations_per_minute"`
}

// TopWatcher is the autoscale watcher's status in Top.
type TopWatcher struct {
	Running bool   `json:"running"`
	Note    string `json:"note"`
}

// NewTop converts a snapshot.
func NewTop(s engine.Snapshot) Top {
	t := Top{Time: s.Time, WindowS: s.WindowS, Instances: make([]TopInstance, 0, len(s.Instances)),
		Functions: make([]TopFunction, 0, len(s.Functions)), Watcher: TopWatcher(s.Watcher), Events: s.Events}
	for _, v := range s.Instances {
		t.Instances = append(t.Instances, TopInstance{ID: v.ID, Function: v.Function, Provider: v.Provider, State: v.State,
			CPUs: v.CPUs, MemoryUsed: v.MemoryUsed, MemoryTotal: v.MemoryTotal, DiskUsed: v.DiskUsed, DiskTotal: v.DiskTotal,
			CPUPct: v.CPUPct, Load: v.Load, InFlight: v.InFlight, IdleS: v.IdleS, Workers: v.Workers, Host: v.Host})
	}
	for _, f := range s.Functions {
		t.Functions = append(t.Functions, TopFunction(f))
	}
	t.Hosts = make([]TopHost, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		t.Hosts = append(t.Hosts, TopHost(h))
	}
	if t.Events == nil {
		t.Events = []string{}
	}
	return t
}

// Engine turns Top read from JSON back into the engine's snapshot.
func (t Top) Engine() engine.Snapshot {
	s := engine.Snapshot{Time: t.Time, WindowS: t.WindowS, Instances: make([]engine.InstanceView, 0, len(t.Instances)),
		Functions: make([]engine.FunctionView, 0, len(t.Functions)), Watcher: engine.WatcherView(t.Watcher), Events: t.Events}
	for _, v := range t.Instances {
		s.Instances = append(s.Instances, engine.InstanceView{ID: v.ID, Function: v.Function, Provider: v.Provider, State: v.State,
			CPUs: v.CPUs, MemoryUsed: v.MemoryUsed, MemoryTotal: v.MemoryTotal, DiskUsed: v.DiskUsed, DiskTotal: v.DiskTotal,
			CPUPct: v.CPUPct, Load: v.Load, InFlight: v.InFlight, IdleS: v.IdleS, Workers: v.Workers, Host: v.Host})
	}
	for _, f := range t.Functions {
		s.Functions = append(s.Functions, engine.FunctionView(f))
	}
	for _, h := range t.Hosts {
		s.Hosts = append(s.Hosts, engine.HostView(h))
	}
	if s.Events == nil {
		s.Events = []string{}
	}
	return s
}

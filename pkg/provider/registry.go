package provider

import (
	"context"
	"slices"
	"sync"
)

// Default is the provider a function runs on when nothing else is chosen
// or usable: the one that needs nothing installed.
const Default = "local"

// Availability is what a provider finds of its own prerequisites here.
type Availability struct {
	// Usable says it can launch instances now.
	Usable bool
	// Detail is one line for `faas doctor`.
	Detail string
	// Notice, when installed but not usable, says why `--provider auto`
	// passes it over.
	Notice string
}

// Registration is how a provider makes itself known, from its package's
// init (lima's driver registry is the model): the engine and the commands
// name no provider, and a new one touches no switch.
type Registration struct {
	Name string
	// New makes the provider for a FAAS_HOME; it fails when the provider
	// cannot run here.
	New func(ctx context.Context, home string) (Provider, error)
	// Detect, when set, says whether it can run here without making it;
	// providers with one are preferred by `--provider auto`, in the order
	// of Rank (highest first), over the Default.
	Detect func(ctx context.Context) Availability
	Rank   int
}

var (
	regMu    sync.RWMutex
	registry = map[string]Registration{}
)

// Register makes a provider known. Registering a name twice panics: two
// packages claim one name.
func Register(r Registration) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[r.Name]; dup {
		panic("provider: " + r.Name + " registered twice")
	}
	registry[r.Name] = r
}

// Lookup returns the registration of name.
func Lookup(name string) (Registration, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	r, ok := registry[name]
	return r, ok
}

// Registered lists the registrations, those that detect themselves first
// (highest rank first), then by name.
func Registered() []Registration {
	regMu.RLock()
	out := make([]Registration, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	regMu.RUnlock()
	slices.SortFunc(out, func(a, b Registration) int {
		if (a.Detect != nil) != (b.Detect != nil) {
			if a.Detect != nil {
				return -1
			}
			return 1
		}
		if a.Rank != b.Rank {
			return b.Rank - a.Rank
		}
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}

// Names lists the registered names, as Registered orders them.
func Names() []string {
	var out []string
	for _, r := range Registered() {
		out = append(out, r.Name)
	}
	return out
}

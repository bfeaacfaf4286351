// Package cmdutil is what every command shares: the factory of lazily
// built dependencies, the exit-code contract, the --output flag and the
// JSON shapes of the records.
package cmdutil

import (
	"context"
	"sync"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Factory hands commands their dependencies. Engine opens the database on
// first use only, so `faas --help` and `faas completion` create nothing.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Engine    func() (*engine.Engine, error)
	// Close releases whatever Engine opened.
	Close func()
}

// New returns the factory of a real process.
func New(ctx context.Context, io *iostreams.IOStreams) *Factory {
	var once sync.Once
	var eng *engine.Engine
	var err error
	f := &Factory{IOStreams: io}
	f.Engine = func() (*engine.Engine, error) {
		once.Do(func() {
			var home string
			if home, err = engine.Home(); err == nil {
				eng, err = engine.Open(ctx, home)
			}
		})
		return eng, err
	}
	f.Close = func() {
		if eng != nil {
			eng.Close()
		}
	}
	return f
}

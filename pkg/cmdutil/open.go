package cmdutil

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/build"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// OpenEngine opens the engine of a FAAS_HOME on its store: the SQLite
// database in the home. This is where the store is chosen, and the
// builder of dependencies (pkg/build, jailed).
func OpenEngine(ctx context.Context, home string, opts ...sqlite.Option) (*engine.Engine, error) {
	st, err := sqlite.Open(ctx, home, opts...)
	if err != nil {
		return nil, err
	}
	e := engine.New(home, st)
	e.SetBuilder(&builder{home: home})
	e.SetJobRecord(func(j store.Job) []byte {
		b, _ := json.Marshal(api.NewJob(j, true))
		return b
	})
	return e, nil
}

// builder is pkg/build behind the engine's Builder seam. The sandbox it
// needs is detected on first use: most commands never build.
type builder struct {
	home string
	once sync.Once
	b    *build.Builder
	err  error
}

func (b *builder) get() (*build.Builder, error) {
	b.once.Do(func() { b.b, b.err = build.New(b.home) })
	return b.b, b.err
}

func (b *builder) Needs(rt function.Runtime, files map[string][]byte) (bool, error) {
	return build.Needs(rt, files)
}

func (b *builder) Build(ctx context.Context, rt function.Runtime, files map[string][]byte, src string, log io.Writer) (string, bool, error) {
	bb, err := b.get()
	if err != nil {
		return "", false, err
	}
	env, err := bb.Build(ctx, build.Spec{Runtime: rt, Files: files, SourceDir: src, Log: log})
	return env.Key, env.Cached, err
}

func (b *builder) Prune(keep map[string]bool) (int, int64, error) {
	bb, err := b.get()
	if err != nil {
		return 0, 0, err
	}
	return bb.Prune(keep)
}

func (b *builder) Usage() (int, int64, error) {
	bb, err := b.get()
	if err != nil {
		return 0, 0, err
	}
	return bb.Usage()
}

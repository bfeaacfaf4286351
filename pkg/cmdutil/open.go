package cmdutil

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/build"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// OpenEngine opens the engine of a FAAS_HOME on its store, and the builder
// of dependencies (pkg/build, jailed).
func OpenEngine(ctx context.Context, home string, opts ...sqlite.Option) (*engine.Engine, error) {
	st, err := OpenStore(ctx, home, opts...)
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

// OpenStore is where the store is chosen: the PostgreSQL database that
// FAAS_DATABASE_URL names, else the SQLite database in home (opts are
// SQLite's).
func OpenStore(ctx context.Context, home string, opts ...sqlite.Option) (engine.Store, error) {
	url := faashome.DatabaseURL()
	if url == "" {
		return sqlite.Open(ctx, home, opts...)
	}
	if !postgres.IsURL(url) {
		return nil, fault.WithHint(fault.Usagef("%s must name a PostgreSQL database", faashome.DatabaseEnv),
			"use postgres://USER@HOST:PORT/DATABASE or host=HOST dbname=DATABASE; unset it for the SQLite database in FAAS_HOME")
	}
	return postgres.Open(ctx, url)
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

package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
)

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, url := openDB(t)
	if n, err := s.Migrate(ctx); err != nil || n != 0 {
		t.Errorf("Migrate of a current database = %d, %v; want 0, nil", n, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != postgres.Latest() || v < 11 {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, postgres.Latest())
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO faas_schema(version, name) VALUES ($1, 'future.sql')`, postgres.Latest()+1); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(ctx, url)
	if s2 != nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if fault.KindOf(err) != fault.Platform || fault.HintOf(err) != "upgrade faas" || !strings.Contains(err.Error(), "newer than this faas knows") {
		t.Errorf("error %q (kind %v, hint %q)", err, fault.KindOf(err), fault.HintOf(err))
	}
}

// Several processes opening a new database at once migrate it once.
func TestConcurrentFirstOpens(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, url)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, max int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*), MAX(version) FROM faas_schema`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	// One row per migration; numbers may leave gaps (each branch of work
	// reserves its own).
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) || max != postgres.Latest() {
		t.Errorf("faas_schema has %d rows up to %d, want %d up to %d", n, max, len(files), postgres.Latest())
	}
}

func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	server, err := pgtest.Server()
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	tests := []struct {
		name, url          string
		kind               fault.Kind
		msg, hint, neither string
	}{
		{"unreachable", "postgres://ada:s3cret-pw@127.0.0.1:1/faas?connect_timeout=5", fault.Platform, "127.0.0.1:1", "pg_isready", "s3cret-pw"},
		{"no such database", pgtest.WithDatabase(server, "faas_nowhere"), fault.Platform, "faas_nowhere does not exist", "createdb faas_nowhere", ""},
		{"no such role", server + "&user=nobody_here", fault.Platform, `role "nobody_here"`, "createuser nobody_here", ""},
		{"not a URL", "postgres://ada:s3cret-pw@[::1/x", fault.Usage, "not a PostgreSQL connection string", "postgres://", "s3cret-pw"},
	}
	if !strings.Contains(server, "?") {
		tests[2].url = server + " user=nobody_here"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := postgres.Open(ctx, tt.url)
			if s != nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			full := err.Error() + " " + fault.HintOf(err)
			if fault.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(fault.HintOf(err), tt.hint) ||
				(tt.neither != "" && strings.Contains(full, tt.neither)) {
				t.Errorf("error %q (kind %v, hint %q); want kind %v, %q, hint with %q, and never %q",
					err, fault.KindOf(err), fault.HintOf(err), tt.kind, tt.msg, tt.hint, tt.neither)
			}
		})
	}
}

// BenchmarkClaimFinish is the store's share of a synchronous invoke: claim
// and place a job, then record its outcome, from 4×GOMAXPROCS goroutines
// (as sqlite's BenchmarkClaimFinish).
func BenchmarkClaimFinish(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	pl := store.Placement{Provider: "local", Slots: 1000, MaxInstances: 1, MemoryMB: 128, CPUs: 1, Version: 1}
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("b%09d", n.Add(1))
			j := store.Job{ID: id, Function: "f", Version: 1, Status: store.StatusRunning, Provider: "local",
				QueuedAt: t0, StartedAt: t0, MemoryMB: 128, RunnerPID: 1, RunnerStart: 1}
			if _, err := s.ClaimJob(ctx, j, pl); err != nil {
				b.Fatal(err)
			}
			j.Status, j.EndedAt, j.Duration, j.BilledMS, j.RequestPico = store.StatusCompleted, t0, time.Millisecond, 1, 200_000
			if err := s.FinishJob(ctx, j, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

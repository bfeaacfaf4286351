package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// The migrations are numbered as pkg/store/sqlite's: migration n brings
// either database to the same schema n, in its own dialect.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

func migrations() ([]store.Migration, error) { return store.Migrations(migrationFS, "migrations") }

// Latest is the newest migration this binary knows.
func Latest() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// versionTable records which migrations a database has, one row each.
const versionTable = `CREATE TABLE IF NOT EXISTS faas_schema (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrateLock is the advisory lock that serialises migrations of one
// database by several faas processes.
const migrateLock = 0x66616173 // "faas"

// SchemaVersion reads the database's schema version (0 for an empty
// database); one newer than this binary knows is refused.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	have, err := readVersion(ctx, s.pool)
	if err != nil {
		return 0, storeErr("read schema version", err)
	}
	return have, s.checkNotNewer(have)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readVersion(ctx context.Context, q queryRower) (int, error) {
	var have int
	// The simple protocol: one round trip, where a statement prepared for
	// one use costs two (every command reads the version once).
	err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM faas_schema`, pgx.QueryExecModeSimpleProtocol).Scan(&have)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: a new database
		return 0, nil
	}
	return have, err
}

func (s *Store) checkNotNewer(have int) error {
	if want := Latest(); have > want {
		return fault.WithHint(fault.Platformf("database %s has schema version %d, newer than this faas knows (%d)", s.where, have, want), "upgrade faas")
	}
	return nil
}

// Migrate applies the migrations the database lacks, in one transaction,
// and returns how many it applied. Concurrent first opens wait for each
// other on an advisory lock, and read the version again under it.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, fault.Platformf("read migrations: %w", err)
	}
	have, err := s.SchemaVersion(ctx)
	if err != nil || have == ms[len(ms)-1].Version {
		return 0, err
	}
	err = s.inTx(ctx, "migrate", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, versionTable); err != nil {
			return err
		}
		have, err := readVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.checkNotNewer(have); err != nil {
			return err
		}
		applied = 0
		for _, m := range ms {
			if m.Version <= have {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO faas_schema(version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			applied++
		}
		return nil
	})
	return applied, err
}

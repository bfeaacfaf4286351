package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Deploy records a new version and makes it current, unless the current
// version already has the same code and config, in which case nothing is
// written and created is false. Deploys of one name take turns (an
// advisory lock), so two first deploys make v1 and v2, as in SQLite.
func (s *Store) Deploy(ctx context.Context, r store.DeployRequest) (v store.Version, created bool, err error) {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		return store.Version{}, false, err
	}
	err = s.inTx(ctx, "deploy "+r.Name, func(tx pgx.Tx) error {
		created = false
		if err := lockKey(ctx, tx, "function:"+r.Name); err != nil {
			return err
		}
		var cur, maxV int
		var curSHA, curCfg, curProvider, curOwner, curDeps string
		err := tx.QueryRow(ctx, `SELECT f.current_version, f.provider, f.owner, v.sha256, v.config, v.deps,
			(SELECT MAX(version) FROM versions WHERE function = f.name)
			FROM functions f JOIN versions v ON v.function = f.name AND v.version = f.current_version
			WHERE f.name = $1`, r.Name).Scan(&cur, &curProvider, &curOwner, &curSHA, &curCfg, &curDeps, &maxV)
		switch {
		case err == nil && r.OwnerOnly && curOwner != r.Owner:
			return fault.WithHint(fault.Conflictf("the function name %q is taken by another owner", r.Name),
				"deploy it under another name")
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO functions(name, provider, owner, current_version, created_at, updated_at)
				VALUES ($1, $2, $3, 1, $4, $4)`, r.Name, r.Provider, r.Owner, ms(r.Now)); err != nil {
				return err
			}
		case err != nil:
			return err
		case curSHA == r.SHA256 && curCfg == string(cfg) && curProvider == r.Provider && curDeps == r.Deps:
			v, err = scanVersion(tx.QueryRow(ctx, versionSelect+` WHERE function = $1 AND version = $2`, r.Name, cur))
			return err
		}
		v = store.Version{Function: r.Name, Version: maxV + 1, SHA256: r.SHA256, Filename: r.Filename, Code: r.Code, Config: r.Config,
			CreatedAt: r.Now, Tree: r.Tree, Deps: r.Deps, BuildLog: r.BuildLog}
		if _, err := tx.Exec(ctx, `INSERT INTO versions(function, version, sha256, filename, code, config, created_at, tree, deps, build_log)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.Name, v.Version, r.SHA256, r.Filename, nonNil(r.Code), string(cfg), ms(r.Now),
			r.Tree, r.Deps, nonNil(r.BuildLog)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE functions SET current_version = $1, provider = $2, updated_at = $3 WHERE name = $4`,
			v.Version, r.Provider, ms(r.Now), r.Name); err != nil {
			return err
		}
		created = true
		return nil
	})
	return v, created, err
}

const versionSelect = `SELECT function, version, sha256, filename, code, config, created_at, tree, deps, build_log FROM versions`

// nonNil is b, or an empty value for a NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanVersion(row pgx.Row) (store.Version, error) {
	var v store.Version
	var cfg string
	var created time.Time
	if err := row.Scan(&v.Function, &v.Version, &v.SHA256, &v.Filename, &v.Code, &cfg, &created, &v.Tree, &v.Deps, &v.BuildLog); err != nil {
		return store.Version{}, err
	}
	if err := json.Unmarshal([]byte(cfg), &v.Config); err != nil {
		return store.Version{}, err
	}
	v.CreatedAt = created.UTC()
	return v, nil
}

func notFoundFunction(name string) error {
	return fault.WithHint(fault.NotFoundf("function %q not found", name), "run `faas ls` to see deployed functions")
}

// GetFunction returns a function with its current version, code included.
// Versions never change once written, so the version read last is kept in
// memory per function (with the function's creation time, so a function
// removed and deployed again is not mistaken for the old one): the hot path
// reads one small row.
func (s *Store) GetFunction(ctx context.Context, name string) (store.Function, error) {
	var f store.Function
	var created, updated time.Time
	err := s.pool.QueryRow(ctx, `SELECT name, provider, owner, created_at, updated_at, current_version,
		(SELECT COUNT(*) FROM versions WHERE function = f.name) FROM functions f WHERE name = $1`, name).Scan(
		&f.Name, &f.Provider, &f.Owner, &created, &updated, &f.Current.Version, &f.Versions)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Function{}, notFoundFunction(name)
	}
	if err != nil {
		return store.Function{}, storeErr("read function "+name, err)
	}
	f.CreatedAt, f.UpdatedAt = created.UTC(), updated.UTC()
	if c, ok := s.versions.Load(name); ok {
		if c := c.(cachedVersion); c.created.Equal(created) && c.v.Version == f.Current.Version {
			f.Current = c.v
			return f, nil
		}
	}
	v, err := scanVersion(s.pool.QueryRow(ctx, versionSelect+` WHERE function = $1 AND version = $2`, name, f.Current.Version))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Function{}, notFoundFunction(name)
	}
	if err != nil {
		return store.Function{}, storeErr("read function "+name, err)
	}
	s.versions.Store(name, cachedVersion{created, v})
	f.Current = v
	return f, nil
}

// cachedVersion is a function's version as GetFunction last read it.
type cachedVersion struct {
	created time.Time
	v       store.Version
}

// ListFunctions returns the functions with their current version, without
// code, ordered by name: every function, or only owner's when ownerSet.
func (s *Store) ListFunctions(ctx context.Context, owner string, ownerSet bool) ([]store.Function, error) {
	return queryAll(ctx, s.pool, "list functions", func(r pgx.Rows) (store.Function, error) {
		var f store.Function
		var created, updated, vcreated time.Time
		var cfg string
		if err := r.Scan(&f.Name, &f.Provider, &f.Owner, &created, &updated,
			&f.Current.Version, &f.Current.SHA256, &f.Current.Filename, &cfg, &vcreated, &f.Current.Tree, &f.Current.Deps, &f.Versions); err != nil {
			return store.Function{}, err
		}
		if err := json.Unmarshal([]byte(cfg), &f.Current.Config); err != nil {
			return store.Function{}, err
		}
		f.Current.Function = f.Name
		f.Current.CreatedAt = vcreated.UTC()
		f.CreatedAt, f.UpdatedAt = created.UTC(), updated.UTC()
		return f, nil
	}, `SELECT f.name, f.provider, f.owner, f.created_at, f.updated_at,
		v.version, v.sha256, v.filename, v.config, v.created_at, v.tree, v.deps,
		(SELECT COUNT(*) FROM versions WHERE function = f.name)
		FROM functions f JOIN versions v ON v.function = f.name AND v.version = f.current_version
		WHERE NOT $1 OR f.owner = $2
		ORDER BY f.name`, ownerSet, owner)
}

// FunctionNames returns the names of all functions, for completion.
func (s *Store) FunctionNames(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.pool, "list functions", func(r pgx.Rows) (n string, err error) {
		err = r.Scan(&n)
		return n, err
	}, `SELECT name FROM functions ORDER BY name`)
}

// DeleteFunction removes a function and its versions. Its jobs stay, for
// the bill and the logs.
func (s *Store) DeleteFunction(ctx context.Context, name string) error {
	return s.inTx(ctx, "remove "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM functions WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFoundFunction(name)
		}
		return nil
	})
}

// Rollback makes version `to` current; to == 0 means the newest version
// older than the current one. It returns the version now current.
func (s *Store) Rollback(ctx context.Context, name string, to int, now time.Time) (from, target int, err error) {
	err = s.inTx(ctx, "rollback "+name, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT current_version FROM functions WHERE name = $1 FOR UPDATE`, name).Scan(&from); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFoundFunction(name)
			}
			return err
		}
		if to == 0 {
			var prev *int
			if err := tx.QueryRow(ctx, `SELECT MAX(version) FROM versions WHERE function = $1 AND version < $2`, name, from).Scan(&prev); err != nil {
				return err
			}
			if prev == nil {
				return fault.WithHint(fault.NotFoundf("function %q has no version before %d", name, from), "see its versions with `faas ls -o json`; roll forward with --to")
			}
			target = *prev
		} else {
			target = to
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM versions WHERE function = $1 AND version = $2`, name, to).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fault.NotFoundf("function %q has no version %d", name, to)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE functions SET current_version = $1, updated_at = $2 WHERE name = $3`, target, ms(now), name)
		return err
	})
	return from, target, err
}

// ListVersions returns a function's versions, newest first, without code.
func (s *Store) ListVersions(ctx context.Context, name string) ([]store.Version, error) {
	return queryAll(ctx, s.pool, "list versions", func(r pgx.Rows) (store.Version, error) {
		v, err := scanVersion(r)
		v.Code = nil
		return v, err
	}, `SELECT function, version, sha256, filename, ''::bytea, config, created_at, tree, deps, ''::bytea
		FROM versions WHERE function = $1 ORDER BY version DESC`, name)
}

// GetVersion returns one version of a function with its code.
func (s *Store) GetVersion(ctx context.Context, name string, version int) (store.Version, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx, versionSelect+` WHERE function = $1 AND version = $2`, name, version))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Version{}, fault.WithHint(fault.NotFoundf("%s has no version %d", name, version), "run `faas describe "+name+"` to see its versions")
	}
	if err != nil {
		return store.Version{}, storeErr("read version", err)
	}
	return v, nil
}

// DepsKeys lists the dependency environments that any version uses.
func (s *Store) DepsKeys(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.pool, "list environments", func(r pgx.Rows) (k string, err error) {
		err = r.Scan(&k)
		return k, err
	}, `SELECT DISTINCT deps FROM versions WHERE deps <> ''`)
}

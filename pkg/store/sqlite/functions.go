package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Deploy records a new version and makes it current, unless the current
// version already has the same code and config, in which case nothing is
// written and created is false.
func (s *Store) Deploy(ctx context.Context, r store.DeployRequest) (v store.Version, created bool, err error) {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		return store.Version{}, false, err
	}
	err = s.inTx(ctx, "deploy "+r.Name, func(tx *sql.Tx) error {
		var cur, maxV int
		var curSHA, curCfg, curProvider, curOwner, curDeps string
		err := tx.QueryRowContext(ctx, `SELECT f.current_version, f.provider, f.owner, v.sha256, v.config, v.deps,
			(SELECT MAX(version) FROM versions WHERE function = f.name)
			FROM functions f JOIN versions v ON v.function = f.name AND v.version = f.current_version
			WHERE f.name = ?`, r.Name).Scan(&cur, &curProvider, &curOwner, &curSHA, &curCfg, &curDeps, &maxV)
		switch {
		case err == nil && r.OwnerOnly && curOwner != r.Owner:
			return fault.WithHint(fault.Conflictf("the function name %q is taken by another owner", r.Name),
				"deploy it under another name")
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO functions(name, provider, owner, current_version, created_at, updated_at)
				VALUES (?, ?, ?, 1, ?, ?)`, r.Name, r.Provider, r.Owner, toMS(r.Now), toMS(r.Now)); err != nil {
				return err
			}
		case err != nil:
			return err
		case curSHA == r.SHA256 && curCfg == string(cfg) && curProvider == r.Provider && curDeps == r.Deps:
			v, err = scanVersion(tx.QueryRowContext(ctx, versionSelect+` WHERE function = ? AND version = ?`, r.Name, cur))
			return err
		}
		v = store.Version{Function: r.Name, Version: maxV + 1, SHA256: r.SHA256, Filename: r.Filename, Code: r.Code, Config: r.Config,
			CreatedAt: r.Now, Tree: r.Tree, Deps: r.Deps, BuildLog: r.BuildLog}
		if _, err := tx.ExecContext(ctx, `INSERT INTO versions(function, version, sha256, filename, code, config, created_at, tree, deps, build_log)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Name, v.Version, r.SHA256, r.Filename, r.Code, string(cfg), toMS(r.Now),
			r.Tree, r.Deps, nonNil(r.BuildLog)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE functions SET current_version = ?, provider = ?, updated_at = ? WHERE name = ?`,
			v.Version, r.Provider, toMS(r.Now), r.Name); err != nil {
			return err
		}
		created = true
		return nil
	})
	if created {
		s.functionsChanged()
	}
	return v, created, err
}

const versionSelect = `SELECT function, version, sha256, filename, code, config, created_at, tree, deps, build_log FROM versions`

// nonNil is b, or an empty blob for a NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanVersion(row rowScanner) (store.Version, error) {
	var v store.Version
	var cfg string
	var created int64
	if err := row.Scan(&v.Function, &v.Version, &v.SHA256, &v.Filename, &v.Code, &cfg, &created, &v.Tree, &v.Deps, &v.BuildLog); err != nil {
		return store.Version{}, err
	}
	if err := json.Unmarshal([]byte(cfg), &v.Config); err != nil {
		return store.Version{}, err
	}
	v.CreatedAt = fromMS(created)
	return v, nil
}

func notFoundFunction(name string) error {
	return fault.WithHint(fault.NotFoundf("function %q not found", name), "run `faas ls` to see deployed functions")
}

// GetFunction returns a function with its current version, code included.
// A function read is kept in memory for the next call of the same name,
// for at most functionTTL, until this store or another process changes a
// function (functionsChanged touches a stamp file; a look at it is one
// stat): a warm invoke reads no row of it. Versions never change once
// written, so the version read last is kept too, per function (with the
// function's creation time, so a function removed and deployed again is not
// mistaken for the old one).
func (s *Store) GetFunction(ctx context.Context, name string) (store.Function, error) {
	stamp := s.functionsStamp()
	if c, ok := s.functions.Load(name); ok {
		if c := c.(cachedFunction); c.stamp == stamp && time.Since(c.read) < functionTTL {
			return c.f, nil
		}
	}
	read := time.Now()
	var f store.Function
	var created, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT name, provider, owner, created_at, updated_at, current_version,
		(SELECT COUNT(*) FROM versions WHERE function = f.name) FROM functions f WHERE name = ?`, name).Scan(
		&f.Name, &f.Provider, &f.Owner, &created, &updated, &f.Current.Version, &f.Versions)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Function{}, notFoundFunction(name)
	}
	if err != nil {
		return store.Function{}, storeErr("read function "+name, err)
	}
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	if c, ok := s.versions.Load(name); ok {
		if c := c.(cachedVersion); c.created == created && c.v.Version == f.Current.Version {
			f.Current = c.v
			s.functions.Store(name, cachedFunction{stamp: stamp, read: read, f: f})
			return f, nil
		}
	}
	v, err := scanVersion(s.db.QueryRowContext(ctx, versionSelect+` WHERE function = ? AND version = ?`, name, f.Current.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Function{}, notFoundFunction(name)
	}
	if err != nil {
		return store.Function{}, storeErr("read function "+name, err)
	}
	s.versions.Store(name, cachedVersion{created, v})
	f.Current = v
	s.functions.Store(name, cachedFunction{stamp: stamp, read: read, f: f})
	return f, nil
}

// functionTTL bounds how long a function read is used without a change
// seen: two changes within one tick of the file system's clock leave the
// stamp looking the same.
const functionTTL = time.Second

// cachedFunction is a function as GetFunction read it, with the stamp it
// saw before reading.
type cachedFunction struct {
	stamp stampState
	read  time.Time
	f     store.Function
}

// stampState is what a look at the functions' stamp file sees.
type stampState struct {
	mod  time.Time
	size int64
	ino  uint64
}

func (s *Store) functionsStamp() stampState {
	fi, err := os.Stat(faashome.FunctionsStamp(filepath.Dir(s.path)))
	if err != nil {
		return stampState{}
	}
	st := stampState{mod: fi.ModTime(), size: fi.Size()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// functionsChanged says that a function changed: this store forgets what it
// kept, and other processes see the stamp change.
func (s *Store) functionsChanged() {
	s.functions.Clear()
	_ = faashome.Touch(faashome.FunctionsStamp(filepath.Dir(s.path)), time.Now())
}

// cachedVersion is a function's version as GetFunction last read it.
type cachedVersion struct {
	created int64
	v       store.Version
}

// ListFunctions returns the functions with their current version, without
// code, ordered by name: every function, or only owner's when ownerSet.
func (s *Store) ListFunctions(ctx context.Context, owner string, ownerSet bool) ([]store.Function, error) {
	return queryAll(ctx, s.db, "list functions", func(r rowScanner) (store.Function, error) {
		var f store.Function
		var created, updated, vcreated int64
		var cfg string
		if err := r.Scan(&f.Name, &f.Provider, &f.Owner, &created, &updated,
			&f.Current.Version, &f.Current.SHA256, &f.Current.Filename, &cfg, &vcreated, &f.Current.Tree, &f.Current.Deps, &f.Versions); err != nil {
			return store.Function{}, err
		}
		if err := json.Unmarshal([]byte(cfg), &f.Current.Config); err != nil {
			return store.Function{}, err
		}
		f.Current.Function = f.Name
		f.Current.CreatedAt = fromMS(vcreated)
		f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
		return f, nil
	}, `SELECT f.name, f.provider, f.owner, f.created_at, f.updated_at,
		v.version, v.sha256, v.filename, v.config, v.created_at, v.tree, v.deps,
		(SELECT COUNT(*) FROM versions WHERE function = f.name)
		FROM functions f JOIN versions v ON v.function = f.name AND v.version = f.current_version
		WHERE NOT ? OR f.owner = ?
		ORDER BY f.name`, ownerSet, owner)
}

// FunctionNames returns the names of all functions, for completion.
func (s *Store) FunctionNames(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.db, "list functions", func(r rowScanner) (n string, err error) {
		err = r.Scan(&n)
		return n, err
	}, `SELECT name FROM functions ORDER BY name`)
}

// DeleteFunction removes a function and its versions. Its jobs stay, for
// the bill and the logs.
func (s *Store) DeleteFunction(ctx context.Context, name string) error {
	defer s.functionsChanged()
	return s.inTx(ctx, "remove "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM functions WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundFunction(name)
		}
		return nil
	})
}

// Rollback makes version `to` current; to == 0 means the newest version
// older than the current one. It returns the version now current.
func (s *Store) Rollback(ctx context.Context, name string, to int, now time.Time) (from, target int, err error) {
	err = s.inTx(ctx, "rollback "+name, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT current_version FROM functions WHERE name = ?`, name).Scan(&from); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFoundFunction(name)
			}
			return err
		}
		if to == 0 {
			var prev sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM versions WHERE function = ? AND version < ?`, name, from).Scan(&prev); err != nil {
				return err
			}
			if !prev.Valid {
				return fault.WithHint(fault.NotFoundf("function %q has no version before %d", name, from), "see its versions with `faas ls -o json`; roll forward with --to")
			}
			target = int(prev.Int64)
		} else {
			target = to
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM versions WHERE function = ? AND version = ?`, name, to).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fault.NotFoundf("function %q has no version %d", name, to)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE functions SET current_version = ?, updated_at = ? WHERE name = ?`, target, toMS(now), name)
		return err
	})
	if err == nil {
		s.functionsChanged()
	}
	return from, target, err
}

// ListVersions returns a function's versions, newest first, without code.
func (s *Store) ListVersions(ctx context.Context, name string) ([]store.Version, error) {
	return queryAll(ctx, s.db, "list versions", func(r rowScanner) (store.Version, error) {
		v, err := scanVersion(r)
		v.Code = nil
		return v, err
	}, `SELECT function, version, sha256, filename, x'', config, created_at, tree, deps, x''
		FROM versions WHERE function = ? ORDER BY version DESC`, name)
}

// GetVersion returns one version of a function with its code.
func (s *Store) GetVersion(ctx context.Context, name string, version int) (store.Version, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, versionSelect+` WHERE function = ? AND version = ?`, name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Version{}, fault.WithHint(fault.NotFoundf("%s has no version %d", name, version), "run `faas describe "+name+"` to see its versions")
	}
	if err != nil {
		return store.Version{}, storeErr("read version", err)
	}
	return v, nil
}

// DepsKeys lists the dependency environments that any version uses.
func (s *Store) DepsKeys(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.db, "list environments", func(r rowScanner) (k string, err error) {
		err = r.Scan(&k)
		return k, err
	}, `SELECT DISTINCT deps FROM versions WHERE deps != ''`)
}

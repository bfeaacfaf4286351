package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// PutSecret stores a sealed secret, replacing the owner's secret of that
// name; created says it was new.
func (s *Store) PutSecret(ctx context.Context, sec store.Secret) (created bool, err error) {
	err = s.inTx(ctx, "set secret", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE secrets SET sealed = ?, size = ?, updated_at = ? WHERE owner = ? AND name = ?`,
			sec.Sealed, sec.Size, toMS(sec.UpdatedAt), sec.Owner, sec.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO secrets(owner, name, sealed, size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sec.Owner, sec.Name, sec.Sealed, sec.Size, toMS(sec.CreatedAt), toMS(sec.UpdatedAt))
		return err
	})
	return created, err
}

// ListSecrets lists an owner's secrets by name, without their values.
func (s *Store) ListSecrets(ctx context.Context, owner string) ([]store.Secret, error) {
	return queryAll(ctx, s.db, "list secrets", func(r rowScanner) (sec store.Secret, err error) {
		var created, updated int64
		err = r.Scan(&sec.Owner, &sec.Name, &sec.Size, &created, &updated)
		sec.CreatedAt, sec.UpdatedAt = fromMS(created), fromMS(updated)
		return sec, err
	}, `SELECT owner, name, size, created_at, updated_at FROM secrets WHERE owner = ? ORDER BY name`, owner)
}

// GetSecrets reads an owner's named secrets, sealed; a name the owner has
// no secret of is not found.
func (s *Store) GetSecrets(ctx context.Context, owner string, names []string) ([]store.Secret, error) {
	if len(names) == 0 {
		return nil, nil
	}
	args := []any{owner}
	for _, n := range names {
		args = append(args, n)
	}
	got, err := queryAll(ctx, s.db, "read secrets", func(r rowScanner) (sec store.Secret, err error) {
		var created, updated int64
		err = r.Scan(&sec.Owner, &sec.Name, &sec.Sealed, &sec.Size, &created, &updated)
		sec.CreatedAt, sec.UpdatedAt = fromMS(created), fromMS(updated)
		return sec, err
	}, `SELECT owner, name, sealed, size, created_at, updated_at FROM secrets WHERE owner = ? AND name IN (?`+
		strings.Repeat(", ?", len(names)-1)+`) ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, sec := range got {
		have[sec.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			return nil, fault.WithHint(fault.NotFoundf("secret %q is not set", n), "set it with `faas secret set "+n+"`")
		}
	}
	return got, nil
}

// DeleteSecret removes one of an owner's secrets.
func (s *Store) DeleteSecret(ctx context.Context, owner, name string) error {
	return s.inTx(ctx, "remove secret", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE owner = ? AND name = ?`, owner, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.WithHint(fault.NotFoundf("secret %q not found", name), "list them with `faas secret ls`")
		}
		return nil
	})
}

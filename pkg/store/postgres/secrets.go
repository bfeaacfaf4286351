package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// PutSecret stores a sealed secret, replacing the owner's secret of that
// name; created says it was new. One upsert: xmax is 0 on a row this
// statement inserted.
func (s *Store) PutSecret(ctx context.Context, sec store.Secret) (created bool, err error) {
	err = s.inTx(ctx, "set secret", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO secrets(owner, name, sealed, size, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT(owner, name) DO UPDATE SET sealed = excluded.sealed, size = excluded.size, updated_at = excluded.updated_at
			RETURNING xmax = 0`, sec.Owner, sec.Name, nonNil(sec.Sealed), sec.Size, ms(sec.CreatedAt), ms(sec.UpdatedAt)).Scan(&created)
	})
	return created, err
}

// ListSecrets lists an owner's secrets by name, without their values.
func (s *Store) ListSecrets(ctx context.Context, owner string) ([]store.Secret, error) {
	return queryAll(ctx, s.pool, "list secrets", func(r pgx.Rows) (sec store.Secret, err error) {
		err = r.Scan(&sec.Owner, &sec.Name, &sec.Size, &sec.CreatedAt, &sec.UpdatedAt)
		sec.CreatedAt, sec.UpdatedAt = sec.CreatedAt.UTC(), sec.UpdatedAt.UTC()
		return sec, err
	}, `SELECT owner, name, size, created_at, updated_at FROM secrets WHERE owner = $1 ORDER BY name`, owner)
}

// GetSecrets reads an owner's named secrets, sealed; a name the owner has
// no secret of is not found.
func (s *Store) GetSecrets(ctx context.Context, owner string, names []string) ([]store.Secret, error) {
	if len(names) == 0 {
		return nil, nil
	}
	got, err := queryAll(ctx, s.pool, "read secrets", func(r pgx.Rows) (sec store.Secret, err error) {
		err = r.Scan(&sec.Owner, &sec.Name, &sec.Sealed, &sec.Size, &sec.CreatedAt, &sec.UpdatedAt)
		sec.CreatedAt, sec.UpdatedAt = sec.CreatedAt.UTC(), sec.UpdatedAt.UTC()
		return sec, err
	}, `SELECT owner, name, sealed, size, created_at, updated_at FROM secrets WHERE owner = $1 AND name = ANY($2) ORDER BY name`, owner, names)
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
	return s.inTx(ctx, "remove secret", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM secrets WHERE owner = $1 AND name = $2`, owner, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fault.WithHint(fault.NotFoundf("secret %q not found", name), "list them with `faas secret ls`")
		}
		return nil
	})
}

package engine

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"slices"
	"sync"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// Secrets are sealed with AES-256-GCM under a key kept apart from the
// database (faashome.SecretsKey): a copy of the database alone reveals no
// value. Each value is bound to its owner and name (the AEAD's additional
// data), so a sealed value moved to another row does not open.

// sealer holds the secrets key, read (or made) on first use: an engine
// that never touches a secret creates no key.
type sealer struct {
	mu   sync.Mutex
	aead cipher.AEAD
}

func (e *Engine) cipher() (cipher.AEAD, error) {
	e.secrets.mu.Lock()
	defer e.secrets.mu.Unlock()
	if e.secrets.aead != nil {
		return e.secrets.aead, nil
	}
	path := faashome.SecretsKey(e.Home)
	key, err := faashome.Secret(path)
	if err != nil {
		return nil, fault.WithHint(fault.Platformf("the secrets key %s: %v", path, err),
			"it must be a readable 32-byte file; FAAS_SECRETS_KEY_FILE names another")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fault.Platformf("the secrets key: %v", err)
	}
	if e.secrets.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fault.Platformf("the secrets key: %v", err)
	}
	return e.secrets.aead, nil
}

func secretAD(owner, name string) []byte { return []byte("faas secret\x00" + owner + "\x00" + name) }

func (e *Engine) seal(owner, name string, value []byte) ([]byte, error) {
	aead, err := e.cipher()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(value)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fault.Platformf("seal secret: %v", err)
	}
	return aead.Seal(nonce, nonce, value, secretAD(owner, name)), nil
}

func (e *Engine) open(s store.Secret) ([]byte, error) {
	aead, err := e.cipher()
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(s.Sealed) < n {
		return nil, fault.Platformf("secret %q is damaged", s.Name)
	}
	v, err := aead.Open(nil, s.Sealed[:n], s.Sealed[n:], secretAD(s.Owner, s.Name))
	if err != nil {
		return nil, fault.WithHint(fault.Platformf("secret %q does not open with the secrets key %s", s.Name, faashome.SecretsKey(e.Home)),
			"the key is not the one it was set with: restore that key, or set the secret again")
	}
	return v, nil
}

// SetSecret stores one of the engine owner's secrets; created says it was
// new. Functions that read it get the new value from their next start.
func (e *Engine) SetSecret(ctx context.Context, name string, value []byte) (created bool, err error) {
	if err := function.ValidateSecretName(name); err != nil {
		return false, err
	}
	switch {
	case len(value) == 0:
		return false, fault.Usagef("secret %s: the value is empty", name)
	case len(value) > function.MaxSecretBytes:
		return false, fault.Usagef("secret %s is %d bytes, over the %d KiB limit", name, len(value), function.MaxSecretBytes>>10)
	}
	sealed, err := e.seal(e.Owner, name, value)
	if err != nil {
		return false, err
	}
	now := e.Now()
	return e.store.PutSecret(ctx, store.Secret{Owner: e.Owner, Name: name, Sealed: sealed, Size: len(value), CreatedAt: now, UpdatedAt: now})
}

// SecretInfo is what may be shown of a secret: never its value.
type SecretInfo struct {
	store.Secret
	// UsedBy are the functions whose current version reads it.
	UsedBy []string
}

// ListSecrets lists the engine owner's secrets, with what reads them.
func (e *Engine) ListSecrets(ctx context.Context) ([]SecretInfo, error) {
	secs, err := e.store.ListSecrets(ctx, e.Owner)
	if err != nil {
		return nil, err
	}
	users, err := e.secretUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SecretInfo, len(secs))
	for i, s := range secs {
		s.Sealed = nil
		out[i] = SecretInfo{Secret: s, UsedBy: users[s.Name]}
	}
	return out, nil
}

// RemoveSecret removes one of the owner's secrets and says which
// functions read it (their next start fails until it is set again).
func (e *Engine) RemoveSecret(ctx context.Context, name string) (usedBy []string, err error) {
	if err := function.ValidateSecretName(name); err != nil {
		return nil, err
	}
	if err := e.store.DeleteSecret(ctx, e.Owner, name); err != nil {
		return nil, err
	}
	users, err := e.secretUsers(ctx)
	return users[name], err
}

// secretUsers maps each secret name to the owner's functions that read it.
func (e *Engine) secretUsers(ctx context.Context) (map[string][]string, error) {
	fns, err := e.store.ListFunctions(ctx, e.Owner, true)
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, f := range fns {
		for _, r := range f.Current.Config.Secrets {
			users[r.Name] = append(users[r.Name], f.Name)
		}
	}
	for _, u := range users {
		slices.Sort(u)
	}
	return users, nil
}

// checkSecrets says whether the owner has every secret refs name (a
// deploy that reads a secret nobody set fails now, not at its invoke).
func (e *Engine) checkSecrets(ctx context.Context, owner string, refs []function.SecretRef) error {
	if len(refs) == 0 {
		return nil
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	_, err := e.store.GetSecrets(ctx, owner, names)
	return err
}

// secretValues opens the secrets a version reads, its owner's, by name.
func (e *Engine) secretValues(ctx context.Context, owner string, refs []function.SecretRef) (map[string][]byte, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	secs, err := e.store.GetSecrets(ctx, owner, names)
	if err != nil {
		return nil, err
	}
	vals := make(map[string][]byte, len(secs))
	for _, s := range secs {
		if vals[s.Name], err = e.open(s); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

package api

import (
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/store"
)

// Secret is a secret as the API and `faas secret ls -o json` show it: its
// name, size and dates, and which functions read it; never its value.
type Secret struct {
	Name      string    `json:"name"`
	Size      int       `json:"size_bytes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UsedBy    []string  `json:"used_by"`
}

// NewSecret shows a secret.
func NewSecret(s engine.SecretInfo) Secret {
	used := s.UsedBy
	if used == nil {
		used = []string{}
	}
	return Secret{Name: s.Name, Size: s.Size, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, UsedBy: used}
}

// Engine is the secret as the engine lists it.
func (s Secret) Engine() engine.SecretInfo {
	return engine.SecretInfo{Secret: store.Secret{Name: s.Name, Size: s.Size, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}, UsedBy: s.UsedBy}
}

// SecretSet is the answer to PUT /v1/secrets/NAME.
type SecretSet struct {
	Name    string `json:"name"`
	Created bool   `json:"created"`
}

// SecretRemoved is the answer to DELETE /v1/secrets/NAME: the functions
// that read it (their next start fails until it is set again).
type SecretRemoved struct {
	Name   string   `json:"name"`
	UsedBy []string `json:"used_by"`
}

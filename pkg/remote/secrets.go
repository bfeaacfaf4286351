package remote

import (
	"bytes"
	"context"
	"net/http"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
)

// SetSecret sends a secret's value as the body, as it is.
func (c *Client) SetSecret(ctx context.Context, name string, value []byte) (bool, error) {
	var r api.SecretSet
	_, err := c.do(ctx, http.MethodPut, "/v1/secrets/"+esc(name), nil, bytes.NewReader(value), "application/octet-stream", &r)
	return r.Created, err
}

// ListSecrets lists the owner's secrets, without values.
func (c *Client) ListSecrets(ctx context.Context) ([]engine.SecretInfo, error) {
	var ss []api.Secret
	if _, err := c.do(ctx, http.MethodGet, "/v1/secrets", nil, nil, "", &ss); err != nil {
		return nil, err
	}
	out := make([]engine.SecretInfo, len(ss))
	for i, s := range ss {
		out[i] = s.Engine()
	}
	return out, nil
}

// RemoveSecret removes one of the owner's secrets.
func (c *Client) RemoveSecret(ctx context.Context, name string) ([]string, error) {
	var r api.SecretRemoved
	_, err := c.do(ctx, http.MethodDelete, "/v1/secrets/"+esc(name), nil, nil, "", &r)
	return r.UsedBy, err
}

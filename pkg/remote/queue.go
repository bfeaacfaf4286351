package remote

import "context"

// EnsureQueueRunner does nothing: the server runs its own queue.
func (c *Client) EnsureQueueRunner(context.Context) error { return nil }

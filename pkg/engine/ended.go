package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/faasdev/faas/pkg/callback"
	"github.com/faasdev/faas/pkg/config"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// SetJobRecord sets how a job is written as the payload of its failure
// destination: the JSON contract of pkg/api (the command line's factory
// sets it; without it, the store's record as JSON).
func (e *Engine) SetJobRecord(f func(store.Job) []byte) { e.record = f }

// ended does what an async job's end asks for, once its last run is
// recorded: its function's failure destination is sent its record (once;
// never for a job a destination started, so that destinations do not
// chain), and its callback is posted. It returns the job with what
// happened.
func (e *Engine) ended(ctx context.Context, j store.Job) store.Job {
	if j.Status != store.StatusCompleted && j.Trigger != faastype.TriggerOnFailure && j.DestinationJob == "" {
		e.destination(ctx, &j)
	}
	if j.Callback.URL != "" {
		e.deliver(ctx, &j)
	}
	return j
}

// destination queues the failed job's record on its function's
// on-failure destination, as the job's owner.
func (e *Engine) destination(ctx context.Context, j *store.Job) {
	fn, err := e.store.GetFunction(ctx, j.Function)
	if err != nil || fn.Current.Config.OnFailure == "" {
		return
	}
	target := fn.Current.Config.OnFailure
	var payload []byte
	if e.record != nil {
		payload = e.record(*j)
	} else {
		payload, _ = json.Marshal(*j)
	}
	var dest store.Job
	why := ""
	owner := e.As(j.Owner)
	if j.Owner == "" {
		owner = &Engine{core: e.core}
	}
	dfn, _, now, err := owner.admit(ctx, target, payload, 0, nil)
	if err != nil {
		why = "on-failure " + target + ": " + err.Error()
	} else {
		dest = store.Job{ID: NewJobID(now), Function: dfn.Name, Version: dfn.Current.Version, Owner: j.Owner,
			Status: store.StatusWaiting, Provider: dfn.Provider, QueuedAt: now, MemoryMB: dfn.Current.Config.MemoryMB,
			Payload: payload, Trigger: faastype.TriggerOnFailure}
	}
	if claimed, err := e.store.ClaimDestination(ctx, j.ID, dest, why); err == nil && claimed {
		j.DestinationJob, j.DestinationError = dest.ID, why
	}
}

// deliver posts the job's result to its callback and records how that
// went.
func (e *Engine) deliver(ctx context.Context, j *store.Job) {
	stored, _ := e.store.Config(ctx)
	allow, _ := callback.ParseAllow(config.Value(stored, callback.AllowKey))
	h := http.Header{}
	h.Set("X-Faas-Job-Id", j.ID)
	h.Set("X-Faas-Function", j.Function)
	h.Set("X-Faas-Status", j.Status)
	if j.Cause != faastype.CauseNone {
		h.Set("X-Faas-Cause", string(j.Cause))
	}
	if j.ExitCode != nil {
		h.Set("X-Faas-Exit-Code", strconv.Itoa(*j.ExitCode))
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if json.Valid(j.Result) {
		h.Set("Content-Type", "application/json")
	}
	res := callback.Deliver(ctx, callback.Request{URL: j.Callback.URL, Body: j.Result, Header: h, Allow: allow})
	cb := store.Callback{URL: j.Callback.URL, Attempts: res.Attempts, Error: res.Err}
	switch {
	case res.Delivered:
		cb.Status = store.CallbackDelivered
	case res.Refused:
		cb.Status = store.CallbackRefused
	default:
		cb.Status = store.CallbackFailed
	}
	if err := e.store.RecordCallback(ctx, j.ID, cb); err == nil {
		j.Callback = cb
	}
}

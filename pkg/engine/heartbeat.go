package engine

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/config"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// HeartbeatKey is how often a process running jobs on a store several hosts
// share records that it lives. A runner not heard from for three beats is
// taken for dead (its host went down) by the processes of other hosts, and
// its running jobs end lost; on its own host, its pid says so at once.
const HeartbeatKey = "jobs.heartbeat"

// silentBeats is how many beats a runner may miss before its jobs are lost.
const silentBeats = 3

func init() {
	config.Register(config.Key{Name: HeartbeatKey, Default: "10s", Check: config.Duration,
		Help: "on a database several hosts share: how often a process running jobs says it lives; another host's server ends its running jobs lost after 3 missed beats"})
}

// sharedStore is a store several hosts may share (PostgreSQL). Only there do
// runners beat and look for silent ones: in SQLite every runner is a
// process of this host, whose pid tells whether it lives.
type sharedStore interface{ SharedAcrossHosts() bool }

// heartbeat is the beating goroutine of a process, once it runs jobs.
type heartbeat struct {
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

func (e *Engine) shared() bool {
	s, ok := e.store.(sharedStore)
	return ok && s.SharedAcrossHosts()
}

// StartHeartbeat makes this process beat from now until Close, on a store
// several hosts share (else it does nothing): every beat records that it
// lives and ends as lost the running jobs of other hosts' runners gone
// silent. A server calls it when it starts; claiming a job calls it too.
func (e *Engine) StartHeartbeat() {
	if !e.shared() {
		return
	}
	e.hb.mu.Lock()
	defer e.hb.mu.Unlock()
	if e.hb.stop != nil {
		return
	}
	e.hb.stop, e.hb.done = make(chan struct{}), make(chan struct{})
	go e.beat(e.hb.stop, e.hb.done)
}

// stopHeartbeat stops the beating and forgets this runner.
func (e *Engine) stopHeartbeat() {
	e.hb.mu.Lock()
	defer e.hb.mu.Unlock()
	if e.hb.stop != nil {
		close(e.hb.stop)
		<-e.hb.done
		e.hb.stop = nil
	}
}

func (e *Engine) beat(stop, done chan struct{}) {
	defer close(done)
	ctx := context.Background()
	me := store.Runner{Host: proc.HostID(), PID: os.Getpid(), Start: proc.SelfStart()}
	every := e.heartbeatEvery(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// A failed beat or look is tried again at the next beat; three
		// in a row and the other hosts take this one for dead.
		_ = e.store.Beat(ctx, me, e.Now(), every)
		_, _ = e.store.MarkSilent(ctx, e.Now(), silentBeats*every)
		select {
		case <-stop:
			_ = e.store.ForgetRunner(ctx, me)
			return
		case <-t.C:
		}
	}
}

// heartbeatEvery is the configured beat, 10 s when unreadable.
func (e *Engine) heartbeatEvery(ctx context.Context) time.Duration {
	every := 10 * time.Second
	if stored, err := e.store.Config(ctx); err == nil {
		if d, err := time.ParseDuration(config.Value(stored, HeartbeatKey)); err == nil && d > 0 {
			every = d
		}
	}
	return every
}

// markSilent ends as lost the running jobs of other hosts' runners gone
// silent, on a store several hosts share.
func (e *Engine) markSilent(ctx context.Context) error {
	if !e.shared() {
		return nil
	}
	_, err := e.store.MarkSilent(ctx, e.Now(), silentBeats*e.heartbeatEvery(ctx))
	return err
}

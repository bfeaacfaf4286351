// Package storetest is the conformance suite of the engine's Store: the
// behaviour every implementation (pkg/store/sqlite, pkg/store/postgres)
// must have, run by each implementation's tests with Run. It lives with
// the interface it holds implementations to, as testing/fstest does.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/store"
)

// Store is what the suite tests: the engine's Store, and what the tests
// use to set up and count records.
type Store interface {
	engine.Store
	// StartJob inserts a job that is already running, unplaced.
	StartJob(ctx context.Context, j store.Job) error
	// FunctionNames lists the functions' names, in order.
	FunctionNames(ctx context.Context) ([]string, error)
	// CountJobs counts jobs by status.
	CountJobs(ctx context.Context) (map[string]int, error)
}

// Backend opens the stores of one implementation.
type Backend struct {
	// New returns a store on a new, empty database, closed when t ends,
	// and a function that opens another store on the same database, as
	// another process would (its caller closes it).
	New func(t *testing.T) (s Store, again func() (Store, error))
}

func (b Backend) open(t *testing.T) Store {
	t.Helper()
	s, _ := b.New(t)
	return s
}

// Run runs the suite against b, each test on a database of its own.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"DeployVersions", testDeployVersions},
		{"Rollback", testRollback},
		{"RollbackSingleVersion", testRollbackSingleVersion},
		{"DeleteFunctionKeepsJobs", testDeleteFunctionKeepsJobs},
		{"GetJobNotFound", testGetJobNotFound},
		{"GetFunctionAndDeleteNotFound", testGetFunctionAndDeleteNotFound},
		{"StartFinishJobRoundTrip", testStartFinishJobRoundTrip},
		{"FinishJobNotRunning", testFinishJobNotRunning},
		{"MarkLost", testMarkLost},
		{"MarkSilent", testMarkSilent},
		{"PruneJobs", testPruneJobs},
		{"ListJobs", testListJobs},
		{"CauseIsRecorded", testCauseIsRecorded},
		{"ConcurrentStoresSeparateOpens", testConcurrentStoresSeparateOpens},
		{"ClaimNextEachJobOnce", testClaimNextEachJobOnce},
		{"FinishRequeueBillsEachRun", testFinishRequeueBillsEachRun},
		{"OwnerFilters", testOwnerFilters},
		{"Tokens", testTokens},
		{"ConcurrentWritersFailAlone", testConcurrentWritersFailAlone},
		{"Secrets", testSecrets},
		{"ConfigSpendBill", testConfigSpendBill},
		{"Placement", testPlacement},
		{"Activity", testActivity},
		{"GetFunctionAfterRedeploy", testGetFunctionAfterRedeploy},
		{"ClaimTickOnce", testClaimTickOnce},
		{"DestinationAndCallback", testDestinationAndCallback},
		{"HandJob", testHandJob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, b) })
	}
}

// t0 is a fixed clock; times are stored at millisecond precision.
var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

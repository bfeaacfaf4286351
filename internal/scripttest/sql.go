package scripttest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWaitSQL waits until a query on the script's PostgreSQL database
// (FAAS_DATABASE_URL) gives WANT as its first column, for at most WITHIN,
// and logs how long it took. It reads the records without faas, so that
// nothing but the servers under test acts on them meanwhile (`faas jobs`
// would reconcile).
func cmdWaitSQL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitsql WITHIN QUERY WANT")
	}
	within, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("waitsql: %v", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv("FAAS_DATABASE_URL"))
	if err != nil {
		ts.Fatalf("waitsql: %v", err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	var got any
	for {
		var v any
		if err := conn.QueryRow(ctx, args[1]).Scan(&v); err != nil {
			ts.Fatalf("waitsql: %s: %v", args[1], err)
		}
		if got = fmt.Sprint(v); got == args[2] {
			ts.Logf("waitsql: %s after %v", args[2], time.Since(start).Round(10*time.Millisecond))
			return
		}
		if time.Since(start) > within {
			ts.Fatalf("waitsql: %s gave %v, not %s, for %v", args[1], got, args[2], within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

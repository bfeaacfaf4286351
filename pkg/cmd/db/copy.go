package db

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// copyStore is what `faas db copy` needs of either store.
type copyStore interface {
	ExportRows(ctx context.Context, t store.Table) (store.Rows, func() error, error)
	ImportTables(ctx context.Context, tables []store.Table, open func(store.Table) (store.Rows, func() error, error)) error
	Totals(ctx context.Context) (store.Totals, error)
	Close() error
}

// CopyReport is what `faas db copy -o json` prints.
type CopyReport struct {
	From   string       `json:"from"`
	To     string       `json:"to"`
	Source store.Totals `json:"source"`
	Target store.Totals `json:"target"`
	Match  bool         `json:"match"`
}

// sqlitePrefix names a FAAS_HOME as a copy's target: sqlite:/path/to/home.
const sqlitePrefix = "sqlite:"

func newCopyCmd(o *Options) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "copy --to <url>",
		Short: "Copy every record of this store into an empty database",
		Long: `Copy the whole history of the store faas uses now (FAAS_HOME's SQLite, or
the PostgreSQL of FAAS_DATABASE_URL) into an empty database: a PostgreSQL
URL, or sqlite:DIR for the SQLite of the FAAS_HOME at DIR.

Functions with every version and its code, jobs with payloads, results and
logs, usage roll-ups, spend, config, tokens, secrets, scale events, samples
and schedule runs are copied; instances are not (they are processes of one
host). Secrets stay sealed: the key that opens them is FAAS_HOME/keys/secrets.key
(or FAAS_SECRETS_KEY_FILE) on this host, not in the database; give the target's faas the same file.

A target with any function or job is refused (exit 2). Rows per table and
the money in jobs, daily usage and spend are compared after the copy; a
mismatch exits 3. Stop faas serve and watchers on the source first: what
they write during the copy may be missed.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return copyRun(cmd.Context(), o, to) },
	}
	cmd.Flags().StringVar(&to, "to", "", "the target database: a PostgreSQL URL or sqlite:DIR")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

// openTarget opens the target a --to names.
func openTarget(ctx context.Context, to string) (copyStore, string, error) {
	switch {
	case strings.HasPrefix(to, sqlitePrefix):
		dir := strings.TrimPrefix(to, sqlitePrefix)
		if dir == "" {
			return nil, "", fault.Usagef("--to sqlite: needs a directory: sqlite:/path/to/home")
		}
		s, err := sqlite.Open(ctx, dir)
		if err != nil {
			return nil, "", err
		}
		return s, s.Path(), nil
	case postgres.IsURL(to):
		s, err := postgres.Open(ctx, to)
		if err != nil {
			return nil, "", err
		}
		return s, s.Where(), nil
	}
	return nil, "", fault.Usagef("--to %q is neither a PostgreSQL URL (postgres://…) nor sqlite:DIR", to)
}

// openSource opens the store faas uses now.
func openSource(ctx context.Context, o *Options) (copyStore, string, error) {
	if url := o.URL(); url != "" {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, "", err
		}
		return s, s.Where(), nil
	}
	home, err := o.Home()
	if err != nil {
		return nil, "", err
	}
	s, err := sqlite.Open(ctx, home)
	if err != nil {
		return nil, "", err
	}
	return s, s.Path(), nil
}

func copyRun(ctx context.Context, o *Options, to string) error {
	if to == "" {
		return fault.Usagef("--to is required: a PostgreSQL URL or sqlite:DIR")
	}
	src, from, err := openSource(ctx, o)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, where, err := openTarget(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	if from == where {
		return fault.Usagef("the target %s is the source", where)
	}
	before, err := dst.Totals(ctx)
	if err != nil {
		return err
	}
	if n := before.Rows["functions"] + before.Rows["jobs"]; n > 0 {
		return fault.WithHint(fault.Usagef("the target %s is not empty: %d functions, %d jobs", where, before.Rows["functions"], before.Rows["jobs"]),
			"copy into a new, empty database")
	}
	if err := dst.ImportTables(ctx, store.CopyTables, func(t store.Table) (store.Rows, func() error, error) {
		return src.ExportRows(ctx, t)
	}); err != nil {
		return err
	}
	r := CopyReport{From: from, To: where}
	if r.Source, err = src.Totals(ctx); err != nil {
		return err
	}
	if r.Target, err = dst.Totals(ctx); err != nil {
		return err
	}
	r.Match = sameTotals(r.Source, r.Target)
	if o.Output == cmdutil.OutputJSON {
		err = cmdutil.WriteJSON(o.IO.Out, r)
	} else {
		err = writeTotals(o.IO.Out, r)
	}
	if err != nil {
		return err
	}
	if !r.Match {
		return fault.Platformf("the copy in %s does not match %s", where, from)
	}
	o.IO.Successf("copied %s to %s", from, where)
	return nil
}

func sameTotals(a, b store.Totals) bool {
	if a.JobPico != b.JobPico || a.UsagePico != b.UsagePico || a.SpendPico != b.SpendPico || len(a.Rows) != len(b.Rows) {
		return false
	}
	for k, v := range a.Rows {
		if b.Rows[k] != v {
			return false
		}
	}
	return true
}

func writeTotals(w io.Writer, r CopyReport) error {
	var names []string
	for k := range r.Source.Rows {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %14s %14s\n", "TABLE", "SOURCE", "TARGET")
	for _, n := range names {
		fmt.Fprintf(&b, "%-16s %14d %14d\n", n, r.Source.Rows[n], r.Target.Rows[n])
	}
	fmt.Fprintf(&b, "%-16s %14d %14d\n", "job pico", r.Source.JobPico, r.Target.JobPico)
	fmt.Fprintf(&b, "%-16s %14d %14d\n", "usage pico", r.Source.UsagePico, r.Target.UsagePico)
	fmt.Fprintf(&b, "%-16s %14d %14d\n", "spend pico", r.Source.SpendPico, r.Target.SpendPico)
	_, err := io.WriteString(w, b.String())
	return err
}

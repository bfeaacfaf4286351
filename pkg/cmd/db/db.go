// Package db is `faas db status` and `faas db migrate`: which store holds
// the records, and its schema.
package db

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store/postgres"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// Status is the store as `faas db status -o json` prints it.
type Status struct {
	Store  string `json:"store"`
	Where  string `json:"where"`
	Schema int    `json:"schema"`
	// Latest is the newest schema this faas knows; Current says the
	// database is at it.
	Latest  int  `json:"latest"`
	Current bool `json:"current"`
}

// Options of `faas db`.
type Options struct {
	IO     *iostreams.IOStreams
	Output string
	// Home is FAAS_HOME; URL is FAAS_DATABASE_URL ("" for SQLite).
	Home func() (string, error)
	URL  func() string
}

// NewCmd returns `faas db` with status and migrate.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{IO: f.IOStreams, Home: cmdutil.LocalHome, URL: faashome.DatabaseURL}
	cmd := &cobra.Command{
		Use:   "db <command>",
		Short: "Show and migrate the database that holds the records",
		Long: `The records (functions, versions, jobs and the queue, usage, bills, tokens,
secrets) live in SQLite in FAAS_HOME, or in the PostgreSQL database that
FAAS_DATABASE_URL names (a postgres:// URL or a keyword string; PG*
variables and ~/.pgpass fill in the rest). Both have one numbered schema.

Every command migrates the database it opens to this faas' schema; a
database at a newer schema than this faas knows is refused.`,
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the store, where it is, and its schema version",
		Args:  cmdutil.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return statusRun(cmd.Context(), o) },
	}
	cmdutil.AddOutputFlag(status, &o.Output)
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the migrations the database lacks",
		Args:  cmdutil.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return migrateRun(cmd.Context(), o) },
	}
	cmd.AddCommand(status, migrate, newCopyCmd(o))
	return cmd
}

func statusRun(ctx context.Context, o *Options) error {
	st, err := read(ctx, o, false)
	if err != nil {
		return err
	}
	st.Current = st.Schema == st.Latest
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, st)
	}
	_, err = fmt.Fprintf(o.IO.Out, "store\t%s\nwhere\t%s\nschema\t%d (this faas: %d)\n", st.Store, st.Where, st.Schema, st.Latest)
	return err
}

func migrateRun(ctx context.Context, o *Options) error {
	before, err := read(ctx, o, false)
	if err != nil {
		return err
	}
	if before.Schema == before.Latest {
		o.IO.Infof("%s is at schema %d: nothing to do", before.Where, before.Schema)
		return nil
	}
	after, err := read(ctx, o, true)
	if err != nil {
		return err
	}
	o.IO.Successf("migrated %s from schema %d to %d", after.Where, before.Schema, after.Schema)
	return nil
}

// read opens the store and reads its schema, migrating it when migrate
// (SQLite always migrates on open).
func read(ctx context.Context, o *Options, migrate bool) (Status, error) {
	if url := o.URL(); url != "" {
		s, err := postgres.OpenNoMigrate(ctx, url)
		if err != nil {
			return Status{}, err
		}
		defer s.Close()
		if migrate {
			if _, err := s.Migrate(ctx); err != nil {
				return Status{}, err
			}
		}
		v, err := s.SchemaVersion(ctx)
		return Status{Store: "postgres", Where: s.Where(), Schema: v, Latest: postgres.Latest()}, err
	}
	home, err := o.Home()
	if err != nil {
		return Status{}, err
	}
	s, err := sqlite.Open(ctx, home)
	if err != nil {
		return Status{}, err
	}
	defer s.Close()
	return Status{Store: "sqlite", Where: s.Path(), Schema: sqlite.SchemaVersion(), Latest: sqlite.SchemaVersion()}, nil
}

// Package serve is `faas serve` and `faas serve token create|list|revoke`.
package serve

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// Options of `faas serve`.
type Options struct {
	IO *iostreams.IOStreams
	// Engine is the server's own engine: it checkpoints the database in
	// the background rather than in its writers' commits.
	Engine func() (*engine.Engine, error)

	Addr     string
	TLSCert  string
	TLSKey   string
	PerOwner int
	Workers  int
	Quiet    bool
	// LogFormat is --log-format: json or text.
	LogFormat string
	// AllowUnjailed serves several owners on a host that cannot jail.
	AllowUnjailed bool
	// Dev serves the local user on loopback without tokens.
	Dev bool
	// Jail says whether functions run jailed here, and why not.
	Jail func() (bool, string)
	// Cluster says how the server reaches its workers (NATS).
	Cluster ClusterOptions
}

// NewCmd returns `faas serve`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{IO: f.IOStreams, Engine: func() (*engine.Engine, error) {
		return f.LocalWith(sqlite.BackgroundCheckpoints(500 * time.Millisecond))
	}, Jail: func() (bool, string) {
		sb := sandbox.DetectSandbox()
		return sb.Jail, sb.JailWhy
	}}
	var database string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API over HTTP for a team, and run the async queue",
		Long: `Serve faas' JSON API over HTTP: deploy, invoke (sync and async), jobs,
logs and bills, for everyone holding a token. Each token's owner sees only
its own functions, jobs and bill. The server also runs queued (async) jobs.

Make a token with ` + "`faas serve token create NAME`" + `; on another machine set
FAAS_SERVER=http://HOST:PORT and FAAS_TOKEN=TOKEN and use faas as usual.

It binds to loopback unless told otherwise; a non-loopback --addr without
--tls-cert and --tls-key prints a warning, since tokens would cross the
network in the clear. SIGTERM (or Ctrl-C) stops it gracefully: requests
and jobs in progress finish first. docs/serve.md describes the API.

Every function answers HTTP at /fn/NAME and /fn/NAME/… (any method) with
the request as a Lambda function-URL event; a private function (the
default) needs its owner's token, a public one (deploy --http public) none.

A web dashboard answers at / (pages under /ui/): sign in with a token to
deploy, invoke, follow jobs, read the bill and watch the instances.
Metrics are at /metrics (Prometheus). Each request and job is a log line
on stderr, JSON with --log-format json. docs/operations.md runs it as a
systemd service.

--dev is for developing on this machine: it listens on loopback only and
needs no tokens at all; every function and the whole API are the local
user's, as on the command line (like sam local start-api).`,
		Example: `  faas serve token create alice
  faas serve --addr 127.0.0.1:8080
  curl -H "Authorization: Bearer $TOKEN" -d '{"name":"Ada"}' localhost:8080/v1/functions/hello/invoke
  faas serve --dev &
  curl 'localhost:8080/fn/hello/greet?name=Ada'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if database != "" {
				// Before the store opens; what the server starts (a
				// dispatcher, the watcher) inherits it.
				os.Setenv(faashome.DatabaseEnv, database)
			}
			return run(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "keep the records in this PostgreSQL database (as FAAS_DATABASE_URL), not in FAAS_HOME")
	cmd.Flags().StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	cmd.Flags().StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	cmd.Flags().StringVar(&o.TLSKey, "tls-key", "", "and this key (PEM)")
	cmd.Flags().IntVar(&o.PerOwner, "max-inflight", 64, "synchronous invokes one owner may have in flight; more get 429")
	cmd.Flags().IntVar(&o.Workers, "workers", max(8, 4*runtime.NumCPU()), "queued jobs run at once")
	cmd.Flags().BoolVar(&o.Quiet, "quiet", false, "do not log each request and job on stderr, only warnings and errors")
	cmd.Flags().StringVar(&o.LogFormat, "log-format", "", logging.Flag)
	cmd.Flags().BoolVar(&o.AllowUnjailed, "allow-unjailed", false, "serve more than one owner where functions cannot be jailed (they could read each other's data)")
	cmd.Flags().BoolVar(&o.Dev, "dev", false, "develop locally: loopback only, no tokens, every function at /fn/NAME and the API as the local user")
	addClusterFlags(cmd, &o.Cluster)
	cmd.AddCommand(newTokenCmd(f))
	return cmd
}

// run serves until ctx ends: the command's context ends on SIGTERM and
// SIGINT (pkg/app), and then requests and jobs in progress finish first.
func run(ctx context.Context, o *Options) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return fault.Usagef("--tls-cert and --tls-key go together")
	}
	if o.PerOwner < 1 || o.Workers < 1 {
		return fault.Usagef("--max-inflight and --workers must be at least 1")
	}
	format, err := logging.Format(o.LogFormat)
	if err != nil {
		return fault.Usagef("--log-format: %v", err)
	}
	// The agents the server starts log in the same format.
	os.Setenv(logging.Env, format)
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return fault.WithHint(fault.Usagef("--addr %q: %v", o.Addr, err), "use HOST:PORT, such as 127.0.0.1:8080")
	}
	if ip := net.ParseIP(host); o.Dev && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return fault.WithHint(fault.Usagef("--dev serves without tokens, so only on loopback, not on %q", o.Addr),
			"use --addr 127.0.0.1:PORT, or serve with tokens (without --dev)")
	}
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	io := o.IO
	if err := checkJail(ctx, o, eng); err != nil {
		return err
	}
	if o.Dev {
		io.Warnf("--dev: no tokens; anyone who can reach %s acts as the local user", o.Addr)
	}
	if st := faashome.ReadServer(eng.Home); st.Running {
		return fault.WithHint(fault.Usagef("faas serve already runs for %s (pid %d on %s)", eng.Home, st.PID, st.Addr),
			"stop it first, or give this one its own FAAS_HOME")
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fault.WithHint(fault.Platformf("listen on %s: %v", o.Addr, err), "choose another --addr")
	}
	if ip := net.ParseIP(host); o.TLSCert == "" && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		io.Warnf("listening on %s without TLS: tokens and payloads cross the network in the clear; pass --tls-cert and --tls-key, or bind to 127.0.0.1", o.Addr)
	}
	// Jobs left running by a server that died are lost; waiting ones run.
	if _, err := eng.Jobs(ctx, store.JobFilter{Limit: 1}); err != nil {
		return err
	}
	// On a database shared with other hosts: beat, and end the jobs of
	// those whose server went silent (their host died).
	eng.StartHeartbeat()
	// Jobs older than jobs.retention are pruned in the background, in
	// small batches; bills keep their totals.
	go eng.RunRetention(ctx, func(format string, args ...any) {
		fmt.Fprintf(o.IO.ErrOut, "faas serve: "+format+"\n", args...)
	})
	addr := ln.Addr().String()
	if err := faashome.WriteServer(eng.Home, addr, time.Now()); err != nil {
		ln.Close()
		return fault.Platformf("record the server in %s: %v", faashome.ServerFile(eng.Home), err)
	}
	defer faashome.RemoveServer(eng.Home)
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(io.ErrOut, "faas serve: listening on %s://%s (FAAS_HOME %s)\n", scheme, addr, eng.Home)
	level := slog.LevelInfo
	if o.Quiet {
		level = slog.LevelWarn
	}
	opts := server.Options{Engine: eng, PerOwner: o.PerOwner, Workers: o.Workers, Dev: o.Dev,
		Log: logging.NewAt(io.ErrOut, format, level)}
	sc, err := startCluster(ctx, o.Cluster, eng, addr, opts.Log)
	if err != nil {
		ln.Close()
		return err
	}
	defer sc.stop()
	opts.Cluster = sc.info
	if sc.info.NATS != "" {
		fmt.Fprintf(io.ErrOut, "faas serve: workers connect to NATS at %s\n", sc.info.NATS)
	}
	err = server.New(opts).Serve(ctx, ln, o.TLSCert, o.TLSKey)
	fmt.Fprintln(io.ErrOut, "faas serve: stopped")
	if err != nil {
		return fault.Platformf("serve: %w", err)
	}
	return nil
}

func newTokenCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the server's API tokens",
		Args:  cmdutil.NoArgs,
	}
	var worker bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token for the owner NAME and print it, once",
		Long: `Create an API token for the owner NAME and print it on stdout. It is shown
this once: only its SHA-256 is kept. What the token deploys and runs is
NAME's, and NAME sees only that, and gets its own bill.

With --worker it is the token of the worker NAME (` + "`faas worker`" + ` on another
host): it fetches code and joins the cluster, and cannot act as an owner
(no deploy, no invoke, no jobs). Its name is listed as worker:NAME.`,
		Example: `  faas serve token create alice
  faas serve token create --worker host2`,
		Args: cmdutil.ExactArgs(1, "the owner's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := function.ValidateName(name); err != nil {
				return fault.Usagef("invalid token name %q: use letters, digits and hyphens, a letter first, at most 63", name)
			}
			if worker {
				name = server.WorkerPrefix + name
			}
			eng, err := f.Local()
			if err != nil {
				return err
			}
			token := NewToken()
			if err := eng.CreateToken(cmd.Context(), name, server.HashToken(token)); err != nil {
				return err
			}
			f.IOStreams.Successf("created a token for %s; it is shown only now", name)
			_, err = fmt.Fprintln(f.IOStreams.Out, token)
			return err
		},
	}
	create.Flags().BoolVar(&worker, "worker", false, "make a worker's token (faas worker), which cannot act as an owner")
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens' names",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Local()
			if err != nil {
				return err
			}
			ts, err := eng.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			if output == cmdutil.OutputJSON {
				type tokenJSON struct {
					Name      string    `json:"name"`
					CreatedAt time.Time `json:"created_at"`
				}
				out := make([]tokenJSON, 0, len(ts))
				for _, t := range ts {
					out = append(out, tokenJSON{t.Name, t.CreatedAt})
				}
				return cmdutil.WriteJSON(f.IOStreams.Out, out)
			}
			if len(ts) == 0 {
				f.IOStreams.Infof("no tokens: create one with `faas serve token create NAME`")
				return nil
			}
			t := f.IOStreams.NewTable("NAME", "CREATED")
			for _, tk := range ts {
				t.AddRow(tk.Name, tk.CreatedAt.UTC().Format(time.RFC3339))
			}
			return t.Render()
		},
	}
	cmdutil.AddOutputFlag(list, &output)
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token: its requests get 401 from now on",
		Args:  cmdutil.ExactArgs(1, "the token's NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Local()
			if err != nil {
				return err
			}
			if err := eng.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			f.IOStreams.Successf("revoked the token %s", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// NewToken returns a new random token: "faas_" and 52 characters of
// base32, 256 bits.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "faas_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// checkJail refuses to serve several owners where functions run unjailed:
// then any function could read the others' code, data and tokens. One
// owner may still serve, with a warning.
func checkJail(ctx context.Context, o *Options, eng *engine.Engine) error {
	jailed, why := o.Jail()
	if jailed {
		return nil
	}
	if o.Dev { // one user, no owners apart
		o.IO.Warnf("functions run unjailed on this host (%s)", why)
		return nil
	}
	tokens, err := eng.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(tokens) > 1 && !o.AllowUnjailed {
		return fault.WithHint(fault.Usagef("functions cannot be jailed on this host (%s), and %d owners have tokens: each could read the others' functions, jobs and tokens", why, len(tokens)),
			"fix what `faas doctor` says of the jail, or start with --allow-unjailed to accept the risk")
	}
	o.IO.Warnf("functions run unjailed on this host (%s)", why)
	return nil
}

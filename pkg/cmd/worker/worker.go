// Package worker is `faas worker`: one host of a cluster, running the
// invocations a `faas serve` places on it with this host's providers.
package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cluster"
	"github.com/faasdev/faas/pkg/cmd/version"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Options of `faas worker`.
type Options struct {
	Server    string
	TokenFile string
	Name      string
	Capacity  int
	Provider  string
	Connect   cluster.ConnectOptions
	// AllowUnjailed runs every owner's functions where they cannot be
	// jailed.
	AllowUnjailed bool
	// LogFormat is --log-format: json or text.
	LogFormat string
}

// NewCmd returns `faas worker`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "worker --server URL",
		Short: "Run this host's functions for a faas serve (one host of a cluster)",
		Long: `Join the cluster of the faas serve at --server: report this host to it over
NATS every second, take the invocations it places here, run them on this
host's provider (local jails by default), and send their results back.
Code is fetched from the server by its sha256 once and kept in FAAS_HOME.

The token is a worker's (` + "`faas serve token create --worker NAME`" + ` on the
server), from FAAS_TOKEN or --token-file. NATS is the server's (it says
where) unless --nats names another; --nats-user-file, --nats-nkey or
--nats-creds authenticate. SIGTERM stops it after the calls in flight.
docs/cluster.md describes the cluster.`,
		Example: `  FAAS_TOKEN=$(cat worker.tok) faas worker --server http://10.0.0.1:8080 --nats-user-file nats.user
  faas worker --server https://faas.example:8080 --token-file /etc/faas/worker.tok --capacity 16`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Server, "server", "", "the faas serve to work for (http://HOST:PORT)")
	fl.StringVar(&o.TokenFile, "token-file", "", "read the worker token from this file (else FAAS_TOKEN)")
	fl.StringVar(&o.Name, "name", "", "this worker's name (default: its token's, from `faas serve token create --worker NAME`)")
	fl.IntVar(&o.Capacity, "capacity", 4*runtime.NumCPU(), "invocations this host runs at once; more are refused and go elsewhere")
	fl.StringVar(&o.Provider, "provider", provider.Default, "the provider functions run on here")
	fl.BoolVar(&o.AllowUnjailed, "allow-unjailed", false, "run functions on a host that cannot jail them (every owner's could read the others')")
	fl.StringVar(&o.Connect.URL, "nats", "", "NATS URL (default: the one the server gives)")
	fl.StringVar(&o.Connect.UserFile, "nats-user-file", "", "a file holding the NATS user:password")
	fl.StringVar(&o.Connect.NkeySeed, "nats-nkey", "", "a file holding an nkey seed")
	fl.StringVar(&o.Connect.Creds, "nats-creds", "", "a NATS credentials file")
	fl.StringVar(&o.LogFormat, "log-format", "", logging.Flag)
	fl.StringVar(&o.Connect.CA, "nats-ca", "", "the CA of the NATS server's certificate (PEM)")
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	if o.Server == "" {
		return fault.WithHint(fault.Usagef("--server is required"), "pass the faas serve's address, such as --server http://10.0.0.1:8080")
	}
	if o.Capacity < 1 {
		return fault.Usagef("--capacity %d: use 1 or more", o.Capacity)
	}
	format, err := logging.Format(o.LogFormat)
	if err != nil {
		return fault.Usagef("--log-format: %v", err)
	}
	token := strings.TrimSpace(os.Getenv("FAAS_TOKEN"))
	if o.TokenFile != "" {
		b, err := os.ReadFile(o.TokenFile)
		if err != nil {
			return fault.Usagef("--token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return fault.WithHint(fault.Usagef("no worker token"), "make one on the server with `faas serve token create --worker NAME` and pass it in FAAS_TOKEN or --token-file")
	}
	base, err := url.Parse(strings.TrimSuffix(o.Server, "/"))
	if err != nil || base.Host == "" {
		return fault.Usagef("--server %q is not a server address: use http://HOST:PORT", o.Server)
	}
	home, err := faashome.Resolve()
	if err != nil {
		return err
	}
	// A worker runs every owner's functions: unjailed, each could read
	// the others' code, data and secrets.
	if sb := sandbox.DetectSandbox(); !sb.Jail {
		if !o.AllowUnjailed {
			return fault.WithHint(fault.Usagef("functions cannot be jailed on this host (%s), and a worker runs every owner's", sb.JailWhy),
				"fix what `faas doctor` says of the jail, or start with --allow-unjailed to accept the risk")
		}
		f.IOStreams.Warnf("functions run unjailed on this host (%s)", sb.JailWhy)
	}
	reg, ok := provider.Lookup(o.Provider)
	if !ok {
		return fault.Usagef("unknown provider %q: use one of %s", o.Provider, strings.Join(provider.Names(), ", "))
	}
	p, err := reg.New(ctx, home)
	if err != nil {
		return err
	}
	c := &client{base: base, token: token, http: &http.Client{Timeout: 5 * time.Minute}}
	var info struct {
		NATS   string `json:"nats"`
		Worker string `json:"worker"`
	}
	if err := c.get(ctx, "/v1/cluster", &info); err != nil {
		return err
	}
	// A worker is named by its token: one name, one token, so that two
	// workers do not answer to one name by mistake.
	if o.Name != "" && o.Name != info.Worker {
		return fault.WithHint(fault.Usagef("--name %s, but the token is worker %s's", o.Name, info.Worker),
			"leave out --name, or use the token made with `faas serve token create --worker "+o.Name+"`")
	}
	o.Name = info.Worker
	if err := cluster.ValidName(o.Name); err != nil {
		return err
	}
	if o.Connect.URL == "" {
		if info.NATS == "" {
			return fault.WithHint(fault.Usagef("the server's NATS takes no workers from other hosts"),
				"start faas serve with --nats-listen HOST:PORT --nats-auth FILE, or give both --nats URL")
		}
		o.Connect.URL = info.NATS
	}
	o.Connect.Name = "faas worker " + o.Name
	nc, err := cluster.Connect(o.Connect)
	if err != nil {
		return err
	}
	defer nc.Close()
	w := cluster.NewWorker(nc, cluster.WorkerOptions{Name: o.Name, Address: hostAddress(), Home: home,
		Version: version.Current().Version, Capacity: o.Capacity, Providers: map[string]provider.Provider{p.Name(): p},
		Default: p.Name(), Fetch: c.code, Prepare: prepare(home, c), Log: logging.New(f.IOStreams.ErrOut, format).With("component", "worker", "worker", o.Name)})
	fmt.Fprintf(f.IOStreams.ErrOut, "faas worker %s: serving %s with capacity %d on %s (FAAS_HOME %s)\n", o.Name, o.Server, o.Capacity, nc.ConnectedUrlRedacted(), home)
	err = w.Run(ctx)
	fmt.Fprintf(f.IOStreams.ErrOut, "faas worker %s: stopped\n", o.Name)
	return err
}

// prepare fetches, once, the dependency environment a version needs from
// the server: built there at its deploy, by its lock's hash.
func prepare(home string, c *client) func(context.Context, faastype.Invocation) error {
	var mu sync.Mutex
	return func(ctx context.Context, inv faastype.Invocation) error {
		if inv.Deps == "" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := os.Stat(faashome.Env(home, inv.Deps)); err == nil {
			return nil
		}
		resp, err := c.do(ctx, "/v1/cluster/envs/"+url.PathEscape(inv.Deps))
		if err != nil {
			return fmt.Errorf("fetch the dependency environment of %s v%d: %w", inv.Function, inv.Version, err)
		}
		defer resp.Body.Close()
		return cluster.ReadEnv(resp.Body, home, inv.Deps)
	}
}

func hostAddress() string {
	h, _ := os.Hostname()
	return h
}

// client is the worker's HTTP client of the server.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

func (c *client) do(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fault.WithHint(fault.Platformf("cannot reach the faas server at %s: %v", c.base.Host, err), "check --server")
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct {
			Error string `json:"error"`
			Hint  string `json:"hint"`
		}
		kind := fault.Platform
		if resp.StatusCode == http.StatusUnauthorized {
			kind = fault.Unauthorized
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fault.WithHint(fault.Newf(kind, "the faas server: %s", e.Error), e.Hint)
		}
		return nil, fault.Platformf("the faas server answered %s to %s", resp.Status, path)
	}
	return resp, nil
}

func (c *client) get(ctx context.Context, path string, out any) error {
	resp, err := c.do(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// code fetches a version's code and checks it is what its sha256 says.
func (c *client) code(ctx context.Context, inv faastype.Invocation) ([]byte, error) {
	resp, err := c.do(ctx, "/v1/cluster/code/"+url.PathEscape(inv.Function)+"/"+strconv.Itoa(inv.Version))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != inv.SHA256 {
		return nil, fmt.Errorf("the code of %s v%d has sha256 %s, not %s", inv.Function, inv.Version, got, inv.SHA256)
	}
	return b, nil
}

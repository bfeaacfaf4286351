// Package deploy is `faas deploy FILE`.
package deploy

import (
	"context"
	"fmt"
	stdio "io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Options are the parsed flags and the dependencies of a deploy.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	// Unjailed says why functions on this host's local provider would
	// run unjailed ("" when they run jailed, or run on a server).
	Unjailed func() string

	File         string
	Name         string
	Runtime      string
	Mode         string
	Memory       string
	CPUs         int
	Disk         string
	Tmp          string
	Timeout      time.Duration
	Concurrency  int
	MinInstances int
	MaxInstances int
	Env          []string
	EnvFile      string
	Network      []string
	Secrets      []string
	Handler      string
	// handlerFile is the FILE of --handler FILE[:FUNCTION].
	handlerFile string
	// Set names the config flags given on the command line: a redeploy
	// changes only those and keeps the rest.
	Set []string
	// Declarative makes the options the whole config, defaults for what
	// they omit, as a manifest says it: nothing is kept from the current
	// version.
	Declarative bool
	ScaleTarget float64
	ScaleIdle   time.Duration
	// HTTP is --http: private or public.
	HTTP       string
	Schedule   string
	ScheduleTZ string
	OnFailure  string
	Provider   string
	Output     string

	// Request is what the flags make, validated before Run.
	Request engine.DeployRequest
}

// NewCmd returns the deploy command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Unjailed: Unjailed}
	cmd := &cobra.Command{
		Use:   "deploy PATH",
		Short: "Turn a file or a directory into a function",
		Long: `Deploy PATH as a function, or as a new version of it. PATH is a file, a
directory, a .zip or a .tar.gz, or - for one on stdin (with --name). A
directory's .faasignore (gitignore syntax) and the defaults (.git,
__pycache__, node_modules, .venv) keep files out. Its entry file is named
by --handler FILE[:FUNCTION], or is the first of main.py, handler.py,
index.js, handler.js, main.js, index.mjs, handler.sh, main.sh at its root.

The runtime comes from the entry file's extension (.py python3, .js node, .sh bash, an
executable otherwise) unless --runtime names it. A file that defines
handler(event, context) (Python) or exports handler (Node) runs in handler
mode; any other file is a script that reads the payload on stdin and writes
its result to stdout. Deploying the same code and config again changes
nothing.

The function's name is printed on stdout; what was done goes to stderr.`,
		Example: `  faas deploy hello.py
  faas deploy ./api --handler src/app.py:handle
  git archive HEAD | faas deploy - --name site
  faas deploy resize.js --name resize --memory 512M --timeout 10s --env SIZE=128
  faas deploy job.sh --mode script --concurrency 4`,
		Args: cmdutil.ExactArgs(1, "a PATH to deploy (a file, a directory, an archive, or -)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.Set = append(opts.Set, f.Name) })
			var err error
			if opts.Request, err = opts.NewRequest(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	def := function.DefaultConfig()
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "function name (default: the file name without extension)")
	fl.StringVar(&opts.Runtime, "runtime", "", "python|node|bash|exec (default: from the extension)")
	fl.StringVar(&opts.Mode, "mode", "", "handler|script (default: detected from the file)")
	fl.StringVar(&opts.Memory, "memory", function.FormatSize(def.MemoryMB), "memory limit, e.g. 128M, 1G")
	fl.IntVar(&opts.CPUs, "cpus", def.CPUs, "vCPUs")
	fl.StringVar(&opts.Disk, "disk", function.FormatSize(def.DiskMB), "disk size, e.g. 5G")
	fl.StringVar(&opts.Tmp, "tmp", function.FormatSize(def.TmpMB), "size of the jail's /tmp, e.g. 256M (counts against --memory)")
	fl.DurationVar(&opts.Timeout, "timeout", def.Timeout(), "kill an invocation after this long")
	fl.IntVar(&opts.Concurrency, "concurrency", def.Concurrency, "invocations one instance runs at once")
	fl.IntVar(&opts.MinInstances, "min-instances", def.MinInstances, "instances kept warm")
	fl.IntVar(&opts.MaxInstances, "max-instances", def.MaxInstances, "most instances at once (0, the default: as many as the host has CPUs)")
	fl.StringArrayVar(&opts.Env, "env", nil, "set an environment variable KEY=VALUE, or remove one with KEY- (repeatable; a redeploy keeps the others)")
	fl.StringVar(&opts.EnvFile, "env-file", "", "replace the whole environment with a file of KEY=VALUE lines (then --env applies)")
	fl.StringArrayVar(&opts.Secrets, "secret", nil, "let the function read secret NAME as /run/secrets/NAME, and as $ENV with NAME=ENV; NAME- stops it (repeatable; a redeploy keeps the others; see faas secret)")
	fl.StringVar(&opts.Handler, "handler", "", "the entry point to call (default: the first of handler, lambda_handler, handle, main; a Node default export)")
	fl.StringArrayVar(&opts.Network, "network", nil, "let the function connect to HOST[:PORT] through its egress proxy (repeatable; * for anywhere; default: no network)")
	fl.Float64Var(&opts.ScaleTarget, "scale-target", 0, "autoscale: jobs in flight per slot to aim for (default: autoscale.target)")
	fl.DurationVar(&opts.ScaleIdle, "scale-idle", 0, "autoscale: scale to zero after this long without jobs (default: autoscale.idle)")
	fl.StringVar(&opts.HTTP, "http", function.HTTPPrivate, "who may call it at faas serve's /fn/NAME: private (the owner's token) or public (anyone)")
	fl.StringVar(&opts.Schedule, "schedule", "", "run on a schedule: 'rate(5 minutes)' or 'cron(0 12 * * ? *)' (EventBridge syntax; '' removes it)")
	fl.StringVar(&opts.ScheduleTZ, "schedule-tz", "", "the time zone of a cron schedule, e.g. Europe/Paris (default UTC)")
	fl.StringVar(&opts.OnFailure, "on-failure", "", "send an async job's final failure (its record) to this function ('' removes it)")
	fl.StringVar(&opts.Provider, "provider", engine.ProviderAuto, "auto|local|multipass|qemu")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "name", cmdutil.OutputJSON)
	_ = cmd.RegisterFlagCompletionFunc("runtime", fixed("python", "node", "bash", "exec"))
	_ = cmd.RegisterFlagCompletionFunc("mode", fixed("handler", "script"))
	_ = cmd.RegisterFlagCompletionFunc("provider", fixed(engine.ProviderChoices()...))
	_ = cmd.RegisterFlagCompletionFunc("http", fixed(function.HTTPPrivate, function.HTTPPublic))
	return cmd
}

func fixed(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// SettingError is a bad value of one setting, named by its flag: a
// manifest points at the key that set it.
type SettingError struct {
	Flag string
	Err  error
}

func (e *SettingError) Error() string { return e.Err.Error() }

func (e *SettingError) Unwrap() error { return e.Err }

// Reason is the message without the flag it may start with, for a
// manifest that names the key.
func (e *SettingError) Reason() string {
	msg := e.Err.Error()
	for _, p := range []string{"--" + e.Flag + ": ", "--" + e.Flag + " "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

func bad(flag string, err error) error { return &SettingError{Flag: flag, Err: err} }

// NewRequest validates the options that need no I/O but an --env-file
// and builds the request; a bad value is a *SettingError.
func (o *Options) NewRequest() (engine.DeployRequest, error) {
	r := engine.DeployRequest{Name: o.Name, Filename: o.File, Provider: o.Provider}
	if o.Runtime != "" {
		r.Runtime = function.Runtime(strings.ToLower(o.Runtime))
		if !r.Runtime.Valid() {
			return r, bad("runtime", fault.Usagef("unknown runtime %q: use python, node, bash or exec", o.Runtime))
		}
	}
	if o.Mode != "" {
		r.Mode = function.Mode(strings.ToLower(o.Mode))
		if r.Mode != function.Handler && r.Mode != function.Script {
			return r, bad("mode", fault.Usagef("unknown mode %q: use handler or script", o.Mode))
		}
	}
	if o.Provider != "" && !slices.Contains(engine.ProviderChoices(), o.Provider) {
		return r, bad("provider", fault.Usagef("unknown provider %q: use %s", o.Provider, strings.Join(engine.ProviderChoices(), ", ")))
	}
	cfg := function.DefaultConfig()
	var err error
	if cfg.MemoryMB, err = function.ParseSize(o.Memory); err != nil {
		return r, bad("memory", fault.Usagef("--memory: %w", err))
	}
	if cfg.DiskMB, err = function.ParseSize(o.Disk); err != nil {
		return r, bad("disk", fault.Usagef("--disk: %w", err))
	}
	if cfg.TmpMB, err = function.ParseSize(o.Tmp); err != nil {
		return r, bad("tmp", fault.Usagef("--tmp: %w", err))
	}
	if o.Timeout <= 0 {
		return r, bad("timeout", fault.Usagef("--timeout %s: use a positive duration such as 30s", o.Timeout))
	}
	cfg.TimeoutMS = o.Timeout.Milliseconds()
	cfg.CPUs, cfg.Concurrency = o.CPUs, o.Concurrency
	cfg.MinInstances, cfg.MaxInstances = o.MinInstances, o.MaxInstances
	if o.ScaleIdle < 0 {
		return r, bad("scale-idle", fault.Usagef("--scale-idle %s: use a positive duration such as 2m", o.ScaleIdle))
	}
	cfg.ScaleTarget, cfg.ScaleIdleMS = o.ScaleTarget, o.ScaleIdle.Milliseconds()
	cfg.Network = o.Network
	if cfg.HTTP, err = function.ParseHTTPAccess(o.HTTP); err != nil {
		return r, bad("http", err)
	}
	cfg.Schedule, cfg.ScheduleTZ, cfg.OnFailure = strings.TrimSpace(o.Schedule), o.ScheduleTZ, o.OnFailure
	if err := checkTriggers(cfg); err != nil {
		return r, err
	}
	if o.Handler != "" {
		var fn string
		o.handlerFile, fn = bundle.ParseHandler(o.Handler)
		if fn != "" {
			if err := function.ValidateEntry(fn); err != nil && fn != function.NodeDefaultExport {
				return r, bad("handler", err)
			}
		}
		cfg.Handler = fn
	}
	var sets []string
	if o.EnvFile != "" {
		b, err := os.ReadFile(o.EnvFile)
		if err != nil {
			return r, bad("env-file", fault.Usagef("--env-file: %v", err))
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				sets = append(sets, line)
			}
		}
		r.EnvReplace = true
	}
	for _, e := range o.Env {
		if k, ok := strings.CutSuffix(e, "-"); ok && !strings.Contains(e, "=") {
			r.EnvUnset = append(r.EnvUnset, k)
			continue
		}
		sets = append(sets, e)
	}
	if cfg.Env, err = function.ParseEnv(sets); err != nil {
		return r, bad("env", err)
	}
	for _, s := range o.Secrets {
		if name, ok := strings.CutSuffix(s, "-"); ok && !strings.Contains(s, "=") && !o.Declarative {
			if err := function.ValidateSecretName(name); err != nil {
				return r, bad("secret", fault.Usagef("--secret %q: %v", s, err))
			}
			r.SecretUnset = append(r.SecretUnset, name)
			continue
		}
		ref, err := function.ParseSecretRef(s)
		if err != nil {
			return r, bad("secret", err)
		}
		cfg.Secrets = append(cfg.Secrets, ref)
	}
	r.Config = cfg
	if o.Declarative {
		return r, nil
	}
	r.Keep = true
	for _, f := range o.Set {
		if configFlags[f] {
			r.Set = append(r.Set, f)
		}
	}
	return r, nil
}

// Run deploys.
func Run(ctx context.Context, o *Options) error {
	r := o.Request
	if err := o.Prepare(ctx, &r); err != nil {
		return err
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	r.Progress = BuildProgress(o.IO)
	res, err := eng.Deploy(ctx, r)
	if err != nil {
		return err
	}
	Report(o.IO, res, o.Unjailed)
	if o.Output == cmdutil.OutputJSON {
		fn, err := eng.Function(ctx, res.Function)
		if err != nil {
			return err
		}
		return cmdutil.WriteJSON(o.IO.Out, api.NewFunction(fn))
	}
	_, err = fmt.Fprintln(o.IO.Out, res.Function)
	return err
}

// Prepare reads what the options' PATH names into the request (one file,
// or a tree: source) and checks its entry file's syntax, before anything is
// sent or stored.
func (o *Options) Prepare(ctx context.Context, r *engine.DeployRequest) error {
	entry, display, err := o.source(r)
	if err != nil {
		return err
	}
	rt := r.Runtime
	if rt == "" {
		rt = function.RuntimeFromFile(r.Filename)
	}
	return checkSyntax(ctx, display, rt, entry)
}

// Report says on stderr what a deploy did: the version made, or that
// nothing changed. unjailed (nil: never) says why this host's local
// provider runs functions unjailed.
func Report(io *iostreams.IOStreams, res engine.DeployResult, unjailed func() string) {
	c := res.Version.Config
	if res.Notice != "" {
		io.Infof("%s", res.Notice)
	}
	if res.Warning != "" {
		io.Warnf("%s", res.Warning)
	}
	if unjailed == nil {
		unjailed = func() string { return "" }
	}
	if why := unjailed(); why != "" && res.Provider == provider.Default {
		io.Warnf("%s runs unjailed on this host (%s); see `faas doctor`", res.Function, why)
	}
	if !res.Created {
		io.Infof("%s v%d is unchanged: same code and config", res.Function, res.Version.Version)
		return
	}
	kind := string(c.Mode)
	// Which entry point: the user sees what each invocation calls.
	switch e := c.Entry(); {
	case c.Mode != function.Handler || e == function.DefaultEntry:
	case e == function.NodeDefaultExport:
		kind += " (the default export)"
	default:
		kind += " " + e + "()"
	}
	io.Successf("deployed %s v%d (%s %s, %s, %s memory, %s timeout)", res.Function, res.Version.Version,
		c.Runtime, kind, res.Provider, function.FormatSize(c.MemoryMB), c.Timeout())
	if len(res.EnvChanges) > 0 {
		io.Infof("env: %s", strings.Join(res.EnvChanges, ", "))
	}
	switch {
	case res.Built:
		io.Infof("dependencies: built (faas logs %s --build)", res.Function)
	case res.Version.Deps != "":
		io.Infof("dependencies: already built, reused")
	}
}

// BuildProgress is where a dependency build's output goes as it runs: to
// stderr, each line indented under the deploy's, never to stdout.
func BuildProgress(io *iostreams.IOStreams) stdio.Writer {
	return &indented{w: io.ErrOut, start: true}
}

// indented writes each line of what it is given after a margin.
type indented struct {
	w     stdio.Writer
	start bool
}

func (in *indented) Write(p []byte) (int, error) {
	var out []byte
	for _, c := range p {
		if in.start {
			out = append(out, "  │ "...)
			in.start = false
		}
		out = append(out, c)
		in.start = c == '\n'
	}
	_, err := in.w.Write(out)
	return len(p), err
}

// Unjailed is why the local provider's functions run unjailed here, or ""
// (FAAS_SERVER set: the server's host decides).
func Unjailed() string {
	if server, _ := cmdutil.Remote(); server != "" {
		return ""
	}
	if sb := sandbox.DetectSandbox(); !sb.Jail {
		return sb.JailWhy
	}
	return ""
}

// configFlags are the flags that change a version's config, by the names
// a redeploy's Set takes.
var configFlags = map[string]bool{"memory": true, "cpus": true, "disk": true, "tmp": true, "timeout": true,
	"concurrency": true, "min-instances": true, "max-instances": true, "network": true, "handler": true,
	"scale-target": true, "scale-idle": true, "http": true, "schedule": true, "schedule-tz": true, "on-failure": true}

// Package up is `faas up`: deploy the functions a manifest lists.
package up

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/deploy"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/manifest"
)

// Options of `faas up`.
type Options struct {
	IO       *iostreams.IOStreams
	Backend  func() (cmdutil.Backend, error)
	Unjailed func() string

	File   string
	Names  []string
	Output string
}

// Record is one function of `faas up -o json`.
type Record struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Action is created (a new version) or unchanged.
	Action string `json:"action"`
}

// NewCmd returns the up command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Unjailed: deploy.Unjailed}
	cmd := &cobra.Command{
		Use:   "up [NAME...]",
		Short: "Deploy the functions a manifest lists",
		Long: `Deploy the functions that faas.yaml lists (or only the NAMEs given), each as
` + "`faas deploy`" + ` would, with the settings the manifest gives it and the defaults
for those it omits: a function's config becomes exactly what the manifest
says. A function whose code and config are unchanged gets no new version.

The whole manifest is checked first: its keys and values, every function's
file (read and syntax-checked), every setting. Each error is printed on
stderr as FILE:LINE:COLUMN: MESSAGE, all at once, and nothing is deployed
(exit 2).

A manifest:

  version: 1
  functions:
    hello:
      path: hello.py          # relative to the manifest's directory
    resize:
      path: img/resize.js
      memory: 512M
      timeout: 10s
      env: {SIZE: "128"}
      secrets: [db, api-key=API_KEY]

Every ` + "`faas deploy`" + ` flag is a key, spelled with underscores (secrets for
--secret); docs/faas.schema.json is its JSON Schema.

The deployed functions' names are printed on stdout; what was done to each
goes to stderr.`,
		Example: `  faas up
  faas up -f services/faas.yaml resize
  faas up -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: CompleteNames(&opts.File),
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", manifest.DefaultFile, "the manifest")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "name", cmdutil.OutputJSON)
	return cmd
}

// Run checks the whole manifest, then deploys.
func Run(ctx context.Context, o *Options) error {
	m, err := manifest.Load(o.File)
	errs := &manifest.Errors{File: o.File}
	if !errors.As(err, &errs) && err != nil {
		return err
	}
	reqs := requests(ctx, m, errs)
	if len(errs.List) > 0 {
		return report(o.IO, errs)
	}
	fns, err := Select(m, o.Names)
	if err != nil {
		return err
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	var done []Record
	created := 0
	for _, fn := range fns {
		r := reqs[fn.Name]
		r.Progress = deploy.BuildProgress(o.IO)
		res, err := eng.Deploy(ctx, r)
		if err != nil {
			return fault.WithHint(fmt.Errorf("%s: %w", fn.Name, err), deployedBefore(done))
		}
		deploy.Report(o.IO, res, o.Unjailed)
		rec := Record{Name: res.Function, Version: res.Version.Version, Action: "unchanged"}
		if res.Created {
			rec.Action = "created"
			created++
		}
		done = append(done, rec)
	}
	o.IO.Infof("%s: %d deployed, %d unchanged", m.File, created, len(done)-created)
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, done)
	}
	for _, r := range done {
		if _, err := fmt.Fprintln(o.IO.Out, r.Name); err != nil {
			return err
		}
	}
	return nil
}

func deployedBefore(done []Record) string {
	if len(done) == 0 {
		return "nothing was deployed"
	}
	names := make([]string, len(done))
	for i, r := range done {
		names[i] = r.Name
	}
	return "the functions before it are up (" + strings.Join(names, ", ") + "), the rest are not"
}

// requests builds and checks every function's deploy request as deploy
// would, adding each error at its place in the manifest to errs.
func requests(ctx context.Context, m *manifest.Manifest, errs *manifest.Errors) map[string]engine.DeployRequest {
	reqs := map[string]engine.DeployRequest{}
	for _, fn := range m.Functions {
		before := len(errs.List)
		o := options(fn)
		r, err := o.NewRequest()
		// A bad setting is reported and set back to its default, so that
		// the settings after it are checked too.
		for tries := 0; err != nil && tries < 32; tries++ {
			var se *deploy.SettingError
			if !errors.As(err, &se) {
				errs.Add(fn.Pos, "function %s: %v", fn.Name, err)
				break
			}
			key := manifest.KeyOfFlag(se.Flag)
			errs.Add(at(fn, key), "%s: %s", key, se.Reason())
			if !unset(o, se.Flag) {
				break
			}
			r, err = o.NewRequest()
		}
		if err != nil {
			continue
		}
		if err := o.Prepare(ctx, &r); err != nil {
			errs.Add(at(fn, "path"), "%v", err)
			continue
		}
		// The checks across settings, only of settings each right.
		if len(errs.List) > before {
			continue
		}
		if err := engine.Check(r); err != nil {
			errs.Add(fn.Pos, "function %s: %v", fn.Name, err)
			continue
		}
		reqs[fn.Name] = r
	}
	return reqs
}

// unset sets the setting of a deploy flag back to its default; false for
// a flag it does not know.
func unset(o *deploy.Options, flag string) bool {
	d := options(manifest.Defaults())
	switch flag {
	case "runtime":
		o.Runtime = d.Runtime
	case "mode":
		o.Mode = d.Mode
	case "provider":
		o.Provider = d.Provider
	case "memory":
		o.Memory = d.Memory
	case "disk":
		o.Disk = d.Disk
	case "tmp":
		o.Tmp = d.Tmp
	case "timeout":
		o.Timeout = d.Timeout
	case "scale-idle":
		o.ScaleIdle = d.ScaleIdle
	case "schedule":
		o.Schedule = d.Schedule
	case "schedule-tz":
		o.ScheduleTZ = d.ScheduleTZ
	case "on-failure":
		o.OnFailure = d.OnFailure
	case "handler":
		o.Handler = d.Handler
	case "http":
		o.HTTP = d.HTTP
	case "env-file":
		o.EnvFile = d.EnvFile
	case "env":
		o.Env = d.Env
	case "secret":
		o.Secrets = d.Secrets
	default:
		return false
	}
	return true
}

// options are the deploy options a manifest's function makes: the whole
// config, nothing kept from the current version.
func options(fn manifest.Function) *deploy.Options {
	env := make([]string, 0, len(fn.Env))
	for k, v := range fn.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	secrets := slices.Clone(fn.Secrets)
	slices.Sort(secrets)
	return &deploy.Options{
		File: fn.File, Name: fn.Name, Declarative: true,
		Runtime: fn.Runtime, Mode: fn.Mode, Handler: fn.Handler, Provider: fn.Provider,
		Memory: fn.Memory, CPUs: fn.CPUs, Disk: fn.Disk, Tmp: fn.Tmp, Timeout: fn.Timeout,
		Concurrency: fn.Concurrency, MinInstances: fn.MinInstances, MaxInstances: fn.MaxInstances,
		Env: env, EnvFile: fn.EnvFile, Secrets: secrets, Network: fn.Network,
		ScaleTarget: fn.ScaleTarget, ScaleIdle: fn.ScaleIdle, HTTP: fn.HTTP,
		Schedule: fn.Schedule, ScheduleTZ: fn.ScheduleTZ, OnFailure: fn.OnFailure,
	}
}

// at is where key's value is, or the function's name when it has no key
// (a default was bad).
func at(fn manifest.Function, key string) manifest.Pos {
	if p, ok := fn.At[key]; ok {
		return p
	}
	return fn.Pos
}

// Load reads a manifest; its errors, if any, are printed on stderr, one
// a line, and returned as one usage error.
func Load(io *iostreams.IOStreams, file string) (*manifest.Manifest, error) {
	m, err := manifest.Load(file)
	var errs *manifest.Errors
	if errors.As(err, &errs) {
		return nil, report(io, errs)
	}
	return m, err
}

func report(io *iostreams.IOStreams, errs *manifest.Errors) error {
	for _, l := range errs.Lines() {
		fmt.Fprintln(io.ErrOut, l)
	}
	return errs
}

// Select returns the manifest's functions that names name, in the
// manifest's order (all of them without names).
func Select(m *manifest.Manifest, names []string) ([]manifest.Function, error) {
	if len(names) == 0 {
		return m.Functions, nil
	}
	var out []manifest.Function
	for _, n := range names {
		if _, ok := m.Lookup(n); !ok {
			return nil, fault.Usagef("%s has no function %q: it lists %s", m.File, n, strings.Join(Names(m), ", "))
		}
	}
	for _, fn := range m.Functions {
		if slices.Contains(names, fn.Name) {
			out = append(out, fn)
		}
	}
	return out, nil
}

// Names are the manifest's function names, in its order.
func Names(m *manifest.Manifest) []string {
	out := make([]string, len(m.Functions))
	for i, fn := range m.Functions {
		out[i] = fn.Name
	}
	return out
}

// CompleteNames completes the function names of the manifest *file.
func CompleteNames(file *string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		m, err := manifest.Load(*file)
		if err != nil && m == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range Names(m) {
			if !slices.Contains(args, n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// Package describe is `faas describe NAME`: a function, its current
// version's config, and every version.
package describe

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// Options of `faas describe`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Now     func() time.Time
	Name    string
	Output  string
}

// Described is `faas describe -o json`: the function as `faas ls -o json`
// shows it, and its versions, newest first.
type Described struct {
	api.Function
	VersionList []api.Version `json:"version_list"`
}

// NewCmd returns `faas describe`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a function: its current version's config and every version",
		Args:  cmdutil.ExactArgs(1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runF(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run describes.
func Run(ctx context.Context, o *Options) error {
	b, err := o.Backend()
	if err != nil {
		return err
	}
	fn, err := b.Function(ctx, o.Name)
	if err != nil {
		return err
	}
	vs, err := b.Versions(ctx, o.Name)
	if err != nil {
		return err
	}
	d := Described{Function: api.NewFunction(fn), VersionList: api.NewVersions(vs, fn.Current.Version)}
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, d)
	}
	c := fn.Current.Config
	entry := string(c.Mode)
	if c.Mode == function.Handler {
		entry += " " + c.Entry()
	}
	env := make([]string, 0, len(c.Env))
	for k, v := range c.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	network := strings.Join(c.Network, ", ")
	if network == "" {
		network = "none"
	}
	w := o.IO.Out
	for _, kv := range [][2]string{
		{"name", fn.Name}, {"owner", fn.Owner}, {"version", strconv.Itoa(fn.Current.Version) + " of " + strconv.Itoa(fn.Versions)},
		{"file", file(fn)}, {"sha256", fn.Current.SHA256}, {"runtime", runtime(c)}, {"mode", entry},
		{"deps", deps(fn)},
		{"provider", fn.Provider}, {"memory", function.FormatSize(c.MemoryMB)}, {"cpus", strconv.Itoa(c.CPUs)},
		{"tmp", function.FormatSize(c.Tmp())}, {"timeout", c.Timeout().String()}, {"concurrency", strconv.Itoa(c.Concurrency)},
		{"instances", instances(c)}, {"network", network},
		{"http", c.HTTPAccess()},
		{"env", strings.Join(env, " ")}, {"secrets", function.SecretRefs(c.Secrets)},
	} {
		if _, err := fmt.Fprintf(w, "%-12s %s\n", kv[0]+":", kv[1]); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	t := o.IO.NewTable("VERSION", "CURRENT", "SHA256", "FILE", "MODE", "MEMORY", "CREATED")
	now := o.Now()
	for _, v := range vs {
		cur := ""
		if v.Version == fn.Current.Version {
			cur = "*"
		}
		t.AddRow(strconv.Itoa(v.Version), cur, v.SHA256[:min(12, len(v.SHA256))], v.Filename, string(v.Config.Mode),
			function.FormatSize(v.Config.MemoryMB), cmdutil.Timestamp(o.IO.IsStdoutTTY(), now, v.CreatedAt))
	}
	return t.Render()
}

// file is the version's file, or its entry file in a tree.
func file(fn store.Function) string {
	if fn.Current.Tree {
		return fn.Current.Filename + " (the entry of a directory of files)"
	}
	return fn.Current.Filename
}

// runtime is the version's runtime with the interpreter it was pinned to.
func runtime(c function.Config) string {
	if c.Interpreter == "" {
		return string(c.Runtime)
	}
	return fmt.Sprintf("%s %s (%s)", c.Runtime, c.InterpreterVersion, c.Interpreter)
}

// deps says whether the version has a dependency environment.
func deps(fn store.Function) string {
	if fn.Current.Deps == "" {
		return "none"
	}
	return "environment " + fn.Current.Deps[:min(12, len(fn.Current.Deps))] + " (faas logs " + fn.Name + " --build)"
}

// instances is "MIN to MAX", MAX saying when it is the host's CPUs.
func instances(c function.Config) string {
	s := strconv.Itoa(c.MinInstances) + " to " + strconv.Itoa(c.Instances())
	if c.MaxInstances == 0 {
		s += " (the host's CPUs)"
	}
	return s
}

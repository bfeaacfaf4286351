// Package newcmd is `faas new NAME --lang LANG`: a starter directory for
// a function (faas-cli new, sam init).
package newcmd

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/manifest"
)

//go:embed templates
var files embed.FS

// Template is a starter for one language: the files under
// templates/<Name>, and a faas.yaml made for the function.
type Template struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Handler is the function's file; Test says how to run its test.
	Handler string `json:"handler"`
	Test    string `json:"test"`
}

// Templates are the starters, in the order --list shows them.
var Templates = []Template{
	{Name: "python", Description: "Python 3 handler(event, context), with a unittest", Handler: "handler.py", Test: "python3 -m unittest"},
	{Name: "node", Description: "Node.js handler (CommonJS), with a node:test test", Handler: "handler.js", Test: "node --test"},
	{Name: "bash", Description: "bash script: the payload on stdin, the result on stdout, with a test script", Handler: "handler.sh", Test: "bash test.sh"},
}

// Options of `faas new`.
type Options struct {
	IO     *iostreams.IOStreams
	Name   string
	Lang   string
	List   bool
	Output string
	// Dir is where NAME/ is made (the current directory in a real run).
	Dir string
}

// NewCmd returns the new command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Dir: "."}
	cmd := &cobra.Command{
		Use:   "new NAME [--lang python|node|bash]",
		Short: "Write a starter function from a template",
		Long: `Write a new directory NAME/ with a starter function: its handler, a sample
event (event.json), a test that runs without faas, and a faas.yaml that
lists it. NAME must be a function name and must not exist yet.

  cd NAME
  python3 -m unittest          # or: node --test, bash test.sh
  faas up
  faas invoke NAME -d @event.json

A faas.yaml already in the current directory is left as it is: the entry to
add to it is printed on stderr.

The directory's name is printed on stdout. --list shows the templates.`,
		Example: `  faas new hello --lang python
  faas new resize --lang node
  faas new --list -o json`,
		Args: cmdutil.RangeArgs(0, 1, "a NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			switch {
			case opts.List && opts.Name != "":
				return fault.Usagef("--list takes no NAME")
			case opts.List:
			case opts.Name == "":
				return fault.WithHint(fault.Usagef("faas new needs a NAME"), "see `faas new --help`")
			default:
				if err := function.ValidateName(opts.Name); err != nil {
					return err
				}
				if _, ok := lookup(opts.Lang); !ok {
					return fault.Usagef("unknown --lang %q: use %s", opts.Lang, strings.Join(names(), ", "))
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Lang, "lang", "l", "python", strings.Join(names(), "|"))
	cmd.Flags().BoolVar(&opts.List, "list", false, "list the templates")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	_ = cmd.RegisterFlagCompletionFunc("lang", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return names(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func names() []string {
	out := make([]string, len(Templates))
	for i, t := range Templates {
		out[i] = t.Name
	}
	return out
}

func lookup(lang string) (Template, bool) {
	i := slices.IndexFunc(Templates, func(t Template) bool { return t.Name == strings.ToLower(lang) })
	if i < 0 {
		return Template{}, false
	}
	return Templates[i], true
}

// Run lists the templates, or writes NAME/.
func Run(_ context.Context, o *Options) error {
	if o.List {
		if o.Output == cmdutil.OutputJSON {
			return cmdutil.WriteJSON(o.IO.Out, Templates)
		}
		t := o.IO.NewTable("NAME", "DESCRIPTION")
		for _, tp := range Templates {
			t.AddRow(tp.Name, tp.Description)
		}
		return t.Render()
	}
	tp, _ := lookup(o.Lang)
	dir := filepath.Join(o.Dir, o.Name)
	written, err := write(dir, o.Name, tp)
	if err != nil {
		return err
	}
	o.IO.Successf("created %s/ from the %s template: %s", o.Name, tp.Name, strings.Join(written, ", "))
	o.IO.Infof("next: cd %s && %s && faas up && faas invoke %s -d @event.json", o.Name, tp.Test, o.Name)
	if _, err := os.Stat(filepath.Join(o.Dir, manifest.DefaultFile)); err == nil {
		o.IO.Infof("./%s is left as it is; to deploy %s with it, add under its functions:\n%s", manifest.DefaultFile, o.Name,
			entry(o.Name, path.Join(o.Name, tp.Handler)))
	}
	_, err = fmt.Fprintln(o.IO.Out, o.Name)
	return err
}

// write makes dir with the template's files and its faas.yaml, or nothing
// if it fails; it returns the files' names.
func write(dir, name string, tp Template) ([]string, error) {
	if err := os.Mkdir(dir, 0o755); errors.Is(err, fs.ErrExist) {
		return nil, fault.WithHint(fault.Usagef("%s already exists", dir), "choose another NAME, or remove it")
	} else if err != nil {
		return nil, fault.Usagef("%v", err)
	}
	var written []string
	err := fs.WalkDir(files, "templates/"+tp.Name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		written = append(written, d.Name())
		return os.WriteFile(filepath.Join(dir, d.Name()), b, mode)
	})
	if err == nil {
		yaml := "# `faas up` deploys the functions listed here; see `faas up --help`.\nversion: 1\nfunctions:\n" + entry(name, tp.Handler)
		err = os.WriteFile(filepath.Join(dir, manifest.DefaultFile), []byte(yaml), 0o644)
		written = append(written, manifest.DefaultFile)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fault.Usagef("writing %s: %v", dir, err)
	}
	return written, nil
}

// entry is a function's lines under a manifest's functions:.
func entry(name, file string) string {
	return fmt.Sprintf("  %s:\n    path: %s\n    # memory: 256M\n    # timeout: 30s\n    # env: {GREETING: hello}\n", name, file)
}

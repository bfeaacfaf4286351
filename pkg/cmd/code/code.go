// Package code is `faas code NAME`: a version's code, back as it was
// deployed (like `wsk action get --save`).
package code

import (
	"context"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas code`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Name    string
	Version int
	Dir     string
}

// NewCmd returns `faas code`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "code NAME",
		Short: "Write a version's code to stdout, or into a directory",
		Long: `Write the code of a function's current version (or --version N) to stdout
as it was deployed, byte for byte, or with -o DIR into DIR under its file
name (which must not exist yet). A function of several files is written as
a tar to stdout, or unpacked into DIR/NAME.`,
		Example: `  faas code hello > hello.py
  faas code hello --version 2 -o old/`,
		Args: cmdutil.ExactArgs(1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.Version < 0 {
				return fault.Usagef("--version %d: use 1 or more (default: the current version)", opts.Version)
			}
			return runF(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	cmd.Flags().IntVar(&opts.Version, "version", 0, "the version (default: the current one)")
	cmd.Flags().StringVarP(&opts.Dir, "output-dir", "o", "", "write the file into this directory instead of stdout")
	return cmd
}

// Run writes the code.
func Run(ctx context.Context, o *Options) error {
	b, err := o.Backend()
	if err != nil {
		return err
	}
	v, err := b.VersionCode(ctx, o.Name, o.Version)
	if err != nil {
		return err
	}
	if o.Dir == "" {
		// A tree goes out as its canonical tar: `faas code NAME | tar x`.
		_, err := o.IO.Out.Write(v.Code)
		return err
	}
	if v.Tree {
		// Unpacked files are read-only, as deployed; the directory is
		// the user's, so its own modes are given back.
		dir := filepath.Join(o.Dir, o.Name)
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return fault.Usagef("-o %s: %v", o.Dir, err)
		}
		if err := bundle.Unpack(v.Code, dir); err != nil {
			return fault.WithHint(fault.Usagef("write %s: %v", dir, err), "choose another -o directory, or remove it")
		}
		o.IO.Successf("wrote %s v%d to %s", o.Name, v.Version, dir)
		return nil
	}
	name := filepath.Base(v.Filename)
	if name == "." || name == "/" || name == "" {
		name = o.Name
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fault.Usagef("-o %s: %v", o.Dir, err)
	}
	path := filepath.Join(o.Dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fault.WithHint(fault.Usagef("write %s: %v", path, err), "choose another -o directory, or remove the file")
	}
	if _, err := f.Write(v.Code); err != nil {
		f.Close()
		return fault.Platformf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fault.Platformf("write %s: %w", path, err)
	}
	o.IO.Successf("wrote %s v%d to %s", o.Name, v.Version, path)
	return nil
}

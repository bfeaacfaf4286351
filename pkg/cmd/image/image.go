// Package image is `faas image build|ls|rm`: the images micro-VMs (the
// qemu provider) boot.
package image

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/vmimage"
)

// Options of `faas image`.
type Options struct {
	IO     *iostreams.IOStreams
	Home   func() (string, error)
	Output string
	Key    string
}

// NewCmd returns `faas image`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image <command>",
		Short: "Build, list and remove the images micro-VMs boot (--provider qemu)",
		Long: `The qemu provider boots each instance from an image: a Debian kernel, the
modules its guest loads, and a read-only root file system (Debian minbase
with python3, nodejs and ca-certificates) that every instance shares under
a copy-on-write layer of its own.

faas image build makes it from Debian's archive with mmdebstrap (about a
minute; as root) into $FAAS_IMAGE_DIR, else $FAAS_HOME/images, under the
sha256 of its recipe. The first deploy with --provider qemu builds it when
it is missing. A build that fails or is interrupted leaves nothing behind.`,
	}
	opts := func() *Options { return &Options{IO: f.IOStreams, Home: cmdutil.LocalHome} }
	build := opts()
	buildCmd := &cobra.Command{
		Use:   "build",
		Short: "Build the micro-VM image unless it is there",
		Args:  cmdutil.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return Build(cmd.Context(), build) },
	}
	ls := opts()
	lsCmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the micro-VM images",
		Args:    cmdutil.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return List(ls) },
	}
	cmdutil.AddOutputFlag(lsCmd, &ls.Output)
	rm := opts()
	rmCmd := &cobra.Command{
		Use:   "rm KEY",
		Short: "Remove a micro-VM image (running VMs keep theirs until they stop)",
		Args:  cmdutil.ExactArgs(1, "the image's key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rm.Key = args[0]
			return Remove(rm)
		},
	}
	cmd.AddCommand(buildCmd, lsCmd, rmCmd)
	return cmd
}

// Build builds the default image: the build tools' lines on stderr when
// it is a terminal, a line at the start and the end otherwise; the
// image's directory on stdout.
func Build(ctx context.Context, o *Options) error {
	home, err := o.Home()
	if err != nil {
		return err
	}
	dir := vmimage.Dir(home)
	var progress io.Writer
	if o.IO.IsStderrTTY() {
		progress = o.IO.ErrOut
	}
	start := time.Now()
	if _, err := vmimage.Current(dir); err != nil {
		fmt.Fprintf(o.IO.ErrOut, "building the micro-VM image in %s (about a minute)…\n", dir)
	}
	im, built, err := vmimage.Build(ctx, dir, vmimage.DefaultRecipe(), progress)
	if err != nil {
		return err
	}
	if built {
		fmt.Fprintf(o.IO.ErrOut, "✓ image %s (kernel %s, %.0f MiB) built in %.0fs\n", im.Key, im.KernelVersion, float64(im.Size)/(1<<20), time.Since(start).Seconds())
	} else {
		fmt.Fprintf(o.IO.ErrOut, "image %s is already built\n", im.Key)
	}
	fmt.Fprintln(o.IO.Out, im.Dir)
	return nil
}

// List prints the images.
func List(o *Options) error {
	home, err := o.Home()
	if err != nil {
		return err
	}
	ims, err := vmimage.List(vmimage.Dir(home))
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		if ims == nil {
			ims = []vmimage.Image{}
		}
		return cmdutil.WriteJSON(o.IO.Out, ims)
	}
	tty := o.IO.IsStdoutTTY()
	t := o.IO.NewTable("KEY", "SUITE", "KERNEL", "SIZE", "CREATED", "PATH")
	for _, im := range ims {
		t.AddRow(im.Key, im.Recipe.Suite, im.KernelVersion, fmt.Sprintf("%.0fMiB", float64(im.Size)/(1<<20)),
			cmdutil.Timestamp(tty, time.Now(), im.Created), im.Dir)
	}
	return t.Render()
}

// Remove removes one image.
func Remove(o *Options) error {
	home, err := o.Home()
	if err != nil {
		return err
	}
	if err := vmimage.Remove(vmimage.Dir(home), o.Key); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "✓ removed image %s\n", o.Key)
	return nil
}

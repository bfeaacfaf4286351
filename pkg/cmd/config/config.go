// Package configcmd is `faas config get|set|list`.
package configcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/config"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas config`.
type Options struct {
	IO     *iostreams.IOStreams
	Engine func() (*engine.Engine, error)
	Key    string
	Value  string
	Output string
}

func completeKeys(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return config.KeyNames(), cobra.ShellCompDirectiveNoFileComp
}

// NewCmd returns `faas config` with get, set and list.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Read and change settings: prices, free tier, budget",
		Long: `Read and change faas' settings, kept in the database.

Prices are in dollars and exact to the pico-dollar. A price change applies to
jobs that end after it; jobs already recorded keep the cost they had.`,
		Example: `  faas config list
  faas config set price.gb_second 0.0000133334
  faas config set free_tier.enabled true
  faas config set budget.monthly 5.00
  faas config set budget.monthly ''      # back to the default (no budget)`,
	}
	get := &cobra.Command{
		Use:               "get KEY",
		Short:             "Print a setting's value",
		Args:              cmdutil.ExactArgs(1, "a KEY"),
		ValidArgsFunction: completeKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Engine()
			if err != nil {
				return err
			}
			v, _, err := eng.ConfigGet(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IOStreams.Out, v)
			return err
		},
	}
	set := &cobra.Command{
		Use:               "set KEY VALUE",
		Short:             "Change a setting ('' resets it)",
		Args:              cmdutil.ExactArgs(2, "a KEY and a VALUE"),
		ValidArgsFunction: completeKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Engine()
			if err != nil {
				return err
			}
			if err := eng.ConfigSet(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			if args[1] == "" {
				f.IOStreams.Successf("%s reset to its default", args[0])
			} else {
				f.IOStreams.Successf("%s = %s", args[0], args[1])
			}
			return nil
		},
	}
	opts := &Options{IO: f.IOStreams, Engine: f.Engine}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every setting",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.Context(), opts)
		},
	}
	cmdutil.AddOutputFlag(list, &opts.Output)
	cmd.AddCommand(get, set, list)
	return cmd
}

// keyJSON is a setting as `faas config list -o json` prints it.
type keyJSON struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Default string `json:"default"`
	Help    string `json:"help"`
}

func runList(ctx context.Context, o *Options) error {
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	values, err := eng.Config(ctx)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		out := make([]keyJSON, 0, len(config.Keys()))
		for _, k := range config.Keys() {
			out = append(out, keyJSON{Key: k.Name, Value: values[k.Name], Default: k.Default, Help: k.Help})
		}
		return cmdutil.WriteJSON(o.IO.Out, out)
	}
	t := o.IO.NewTable("KEY", "VALUE", "DEFAULT", "MEANING")
	for _, k := range config.Keys() {
		t.AddRow(k.Name, values[k.Name], k.Default, k.Help)
	}
	return t.Render()
}

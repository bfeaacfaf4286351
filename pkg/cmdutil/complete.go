package cmdutil

import (
	"github.com/spf13/cobra"
)

// CompleteFunctionNames completes the first argument with deployed
// function names.
func CompleteFunctionNames(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		b, err := f.Backend()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		fns, err := b.Functions(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, len(fns))
		for i, fn := range fns {
			names[i] = fn.Name
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

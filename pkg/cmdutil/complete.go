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
		eng, err := f.Engine()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := eng.Store.FunctionNames(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

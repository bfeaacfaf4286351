package cmdutil

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/store"
)

// CompleteFunctionNames completes the first argument with deployed
// function names.
func CompleteFunctionNames(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return completeFirst(f, func(ctx context.Context, b Backend) ([]string, error) {
		fns, err := b.Functions(ctx)
		names := make([]string, len(fns))
		for i, fn := range fns {
			names[i] = fn.Name
		}
		return names, err
	})
}

// CompleteJobIDs completes the first argument with the ids of recent jobs,
// described by their function and status.
func CompleteJobIDs(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return completeFirst(f, func(ctx context.Context, b Backend) ([]string, error) {
		jobs, err := b.Jobs(ctx, store.JobFilter{Limit: 50})
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID + "\t" + j.Function + " " + j.Status
		}
		return ids, err
	})
}

// completeFirst completes the first argument with what list returns; no
// completion at all if it fails.
func completeFirst(f *Factory, list func(context.Context, Backend) ([]string, error)) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		b, err := f.Backend()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		words, err := list(cmd.Context(), b)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

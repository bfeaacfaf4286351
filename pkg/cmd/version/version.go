// Package version is `faas version`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
)

// Set by -ldflags "-X github.com/faasdev/faas/pkg/cmd/version.Version=…".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the version as `-o json` prints it.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}

// Current returns the build's version, from -ldflags or the module's build
// info (`go install`).
func Current() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version()}
	// A release tool without git state stamps placeholders: prefer what
	// the Go toolchain recorded.
	if i.Commit == "none" || i.Commit == "unknown" {
		i.Commit = ""
	}
	if strings.HasPrefix(i.Date, "0001-01-01") {
		i.Date = ""
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	return i
}

// NewCmd returns the version command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of faas",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			i := Current()
			if output == cmdutil.OutputJSON {
				return cmdutil.WriteJSON(f.IOStreams.Out, i)
			}
			_, err := fmt.Fprintf(f.IOStreams.Out, "faas %s (commit %s, built %s, %s)\n", i.Version, i.Commit, i.Date, i.Go)
			return err
		},
	}
	cmdutil.AddOutputFlag(cmd, &output)
	return cmd
}

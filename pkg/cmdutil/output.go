package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// outputValue is a --output value checked when the flag is parsed, so a
// bad value is a usage error before anything runs.
type outputValue struct {
	target  *string
	allowed []string
}

func (o *outputValue) String() string { return *o.target }
func (o *outputValue) Type() string   { return "format" }
func (o *outputValue) Set(v string) error {
	for _, a := range o.allowed {
		if v == a {
			*o.target = v
			return nil
		}
	}
	return fmt.Errorf("unknown format %q: use %s", v, strings.Join(o.allowed, " or "))
}

// AddOutputFlag registers -o/--output on cmd, defaulting to table.
func AddOutputFlag(cmd *cobra.Command, target *string, formats ...string) {
	if len(formats) == 0 {
		formats = []string{OutputTable, OutputJSON}
	}
	*target = formats[0]
	cmd.Flags().VarP(&outputValue{target: target, allowed: formats}, "output", "o",
		"output format: "+strings.Join(formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return formats, cobra.ShellCompDirectiveNoFileComp
	})
}

// WriteJSON writes v as indented JSON with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Package doctor is `faas doctor`.
package doctor

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/doctor"
	"github.com/faasdev/faas/pkg/fault"
)

// NewCmd returns the doctor command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what faas needs: Multipass, KVM, runtimes, the sandbox, the database",
		Long: `Check what faas depends on and say what works: the Multipass client and
daemon, KVM (usable only with hardware virtualisation: /proc/cpuinfo has vmx
or svm), python3 and node, which limits the local sandbox enforces and how
(cgroups or rlimits), whether functions run jailed (namespaces, a private root,
an unprivileged uid, seccomp: a jailed /bin/true is run to prove it), and the
database. It exits 0 unless the database cannot be read (3).`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := cmdutil.LocalHome()
			if err != nil {
				return err
			}
			checks := doctor.Run(cmd.Context(), home)
			io := f.IOStreams
			if output == cmdutil.OutputJSON {
				return cmdutil.WriteJSON(io.Out, checks)
			}
			st := io.Styles()
			for _, c := range checks {
				mark := st.Success.Render("✓")
				if !c.OK {
					mark = st.Warning.Render("!")
				}
				if !io.IsStdoutTTY() {
					mark = "ok"
					if !c.OK {
						mark = "no"
					}
					fmt.Fprintf(io.Out, "%s\t%s\t%s\n", c.Name, mark, c.Detail)
					continue
				}
				fmt.Fprintf(io.Out, "%s %-9s %s\n", mark, c.Name, c.Detail)
			}
			for _, c := range checks {
				if c.Fatal {
					return fault.WithHint(fault.Platformf("the %s cannot be read: %s", c.Name, c.Detail), "fix FAAS_HOME's permissions, or move the file away")
				}
			}
			return nil
		},
	}
	cmdutil.AddOutputFlag(cmd, &output)
	return cmd
}

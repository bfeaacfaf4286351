// Package secret is `faas secret set|ls|rm`.
package secret

import (
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/secret/ls"
	"github.com/faasdev/faas/pkg/cmd/secret/rm"
	"github.com/faasdev/faas/pkg/cmd/secret/set"
	"github.com/faasdev/faas/pkg/cmdutil"
)

// NewCmd returns `faas secret`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret <command>",
		Short: "Keep the secrets functions read: set, list, remove",
		Long: `Secrets are values a function reads but nobody else sees: database
passwords, API keys. A function reads the secrets it is deployed with
(faas deploy --secret NAME) as files, /run/secrets/NAME, and with
--secret NAME=VAR also as the environment variable VAR.

No command or API prints a secret's value. Values are sealed (AES-256-GCM)
in the database with a key kept apart from it ($FAAS_HOME/keys/secrets.key,
or the file FAAS_SECRETS_KEY_FILE names). Under faas serve each owner (API
token) has secrets of their own. Environment variables set with --env are
shown by faas describe and faas ls -o json: secrets belong here.`,
	}
	cmd.AddCommand(set.NewCmd(f, nil), ls.NewCmd(f, nil), rm.NewCmd(f, nil))
	return cmd
}

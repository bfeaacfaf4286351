// Package root assembles the faas command tree.
package root

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/agent"
	autoscalecmd "github.com/faasdev/faas/pkg/cmd/autoscale"
	"github.com/faasdev/faas/pkg/cmd/bill"
	"github.com/faasdev/faas/pkg/cmd/code"
	configcmd "github.com/faasdev/faas/pkg/cmd/config"
	"github.com/faasdev/faas/pkg/cmd/db"
	"github.com/faasdev/faas/pkg/cmd/deploy"
	"github.com/faasdev/faas/pkg/cmd/describe"
	"github.com/faasdev/faas/pkg/cmd/dispatch"
	"github.com/faasdev/faas/pkg/cmd/doctor"
	"github.com/faasdev/faas/pkg/cmd/down"
	imagecmd "github.com/faasdev/faas/pkg/cmd/image"
	"github.com/faasdev/faas/pkg/cmd/invoke"
	"github.com/faasdev/faas/pkg/cmd/jobs"
	"github.com/faasdev/faas/pkg/cmd/logs"
	"github.com/faasdev/faas/pkg/cmd/ls"
	newcmd "github.com/faasdev/faas/pkg/cmd/new"
	"github.com/faasdev/faas/pkg/cmd/rm"
	"github.com/faasdev/faas/pkg/cmd/rollback"
	"github.com/faasdev/faas/pkg/cmd/schedules"
	"github.com/faasdev/faas/pkg/cmd/secret"
	"github.com/faasdev/faas/pkg/cmd/serve"
	"github.com/faasdev/faas/pkg/cmd/top"
	"github.com/faasdev/faas/pkg/cmd/up"
	"github.com/faasdev/faas/pkg/cmd/version"
	"github.com/faasdev/faas/pkg/cmd/worker"
	"github.com/faasdev/faas/pkg/cmd/workers"
	"github.com/faasdev/faas/pkg/cmdutil"
)

// NewCmd returns the root command with every subcommand.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := newRoot(f)
	cmd.AddCommand(helpTopics()...)
	cmd.AddCommand(
		deploy.NewCmd(f, nil),
		invoke.NewCmd(f, nil),
		ls.NewCmd(f, nil),
		schedules.NewCmd(f, nil),
		describe.NewCmd(f, nil),
		code.NewCmd(f, nil),
		rm.NewCmd(f, nil),
		rollback.NewCmd(f, nil),
		up.NewCmd(f, nil),
		down.NewCmd(f, nil),
		newcmd.NewCmd(f, nil),
		jobs.NewCmd(f, nil),
		logs.NewCmd(f, nil),
		top.NewCmd(f, nil),
		bill.NewCmd(f, nil),
		secret.NewCmd(f),
		autoscalecmd.NewCmd(f),
		configcmd.NewCmd(f),
		doctor.NewCmd(f),
		version.NewCmd(f),
		agent.NewCmd(f),
		serve.NewCmd(f),
		worker.NewCmd(f),
		workers.NewCmd(f),
		db.NewCmd(f),
		dispatch.NewCmd(f),
		imagecmd.NewCmd(f),
	)
	return cmd
}

// hot are the commands run often enough that building the other 25 for
// them shows: `faas invoke` is a few milliseconds end to end.
var hot = map[string]func(*cmdutil.Factory) *cobra.Command{
	"invoke":  func(f *cmdutil.Factory) *cobra.Command { return invoke.NewCmd(f, nil) },
	"version": version.NewCmd,
}

// NewCmdFor returns the root command to run args with: with only the
// command args[0] names when it is a hot one (it runs the same; `help` and
// completion, which list the others, name no hot command), else NewCmd's.
func NewCmdFor(f *cmdutil.Factory, args []string) *cobra.Command {
	if len(args) == 0 || hot[args[0]] == nil {
		return NewCmd(f)
	}
	cmd := newRoot(f)
	// Nor cobra's completion command, four more built at every run.
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.AddCommand(hot[args[0]](f))
	return cmd
}

// newRoot is the root command without its subcommands.
func newRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faas <command>",
		Short: "Serverless functions on your own machine",
		Long: `faas turns a file into a function, runs it on demand in a sandboxed
process (or a Multipass VM), and records every invocation in SQLite.

State lives in $FAAS_HOME (default ~/.local/share/faas).
Exit codes: 0 ok, 1 function failed, 2 usage, 3 platform, 4 not found,
124 function timed out, 130 interrupted.`,
		Example: `  faas deploy examples/hello.py
  faas invoke hello -d '{"name":"Ada"}'
  faas jobs`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version.Current().Version,
	}
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	var debug bool
	cmd.PersistentFlags().BoolVar(&debug, "debug", false, "print what faas runs (multipass command lines) on stderr")
	cmd.PersistentPreRun = func(*cobra.Command, []string) {
		if debug {
			// Read by what runs external programs, made later and lazily.
			os.Setenv("FAAS_DEBUG", "1")
		}
	}
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	return cmd
}

// helpTopics are `faas help exit-codes` and `faas help environment`.
func helpTopics() []*cobra.Command {
	return []*cobra.Command{
		{
			Use:   "exit-codes",
			Short: "What faas' exit codes mean",
			Long: `faas exits with a code that tells a failed function from a failed platform:

  0    success
  1    the function failed: a non-zero exit, an exception, out of memory, a
       result over 6 MiB, or its worker crashed; or, at deploy, its
       dependencies did not build (pip's or npm's error is quoted)
  2    usage error or bad input: a flag, a name, a file, a size, a month;
       with FAAS_SERVER also a missing or unknown token, a function name
       another owner holds, a body over 6 MiB (a deploy's: 50 MiB of code);
       nothing was changed
  3    platform error: a runtime or provider is missing, the sandbox, the
       store or an instance failed, the monthly budget is spent, a job was
       lost, or the server cannot be reached or is at the owner's limit
  4    not found: a function, version, job or secret
  124  the function timed out (its processes were killed); for
       ` + "`faas jobs wait --timeout`" + `, the job had not ended
  130  interrupted (Ctrl-C); the job is recorded as failed

Errors are one line on stderr: "error: what happened; what to do next";
a manifest's errors (faas up, faas down) come before it, one a line, as
FILE:LINE:COLUMN: message. stdout carries data only.`,
		},
		{
			Use:   "environment",
			Short: "Environment variables that faas reads",
			Long: `FAAS_HOME          where all state lives (default $XDG_DATA_HOME/faas, else
                   ~/.local/share/faas): faas.db, code/, run/, logs/
XDG_DATA_HOME      see FAAS_HOME
FAAS_PYTHON        the python3 to run Python functions with (default: from PATH)
FAAS_NODE          the node to run Node functions with (default: from PATH)
FAAS_BASH          the bash to run bash functions with (default: from PATH)
FAAS_SANDBOX       "rlimit" to confine functions with rlimits only: no cgroups, no jail
FAAS_JAIL_SHARE    a directory every jail gets, writable, at its own path (tests,
                   debugging; never on a server of several owners)
FAAS_EGRESS_PRIVATE  1: functions with --network may reach loopback and private
                   addresses (the operator's choice; default: refused)
FAAS_AGENT_IDLE    how long an idle instance lives, e.g. 2m (default 5m)
FAAS_AGENT_TOKEN   the bearer token of an agent listening on TCP (in a VM)
FAAS_AGENT_BINARY  the static agent of Multipass and QEMU VMs (default: faas-agent
                   beside faas, else faas itself if it is static)
FAAS_MULTIPASS_IMAGE  the image Multipass VMs are launched from (default 24.04; an
                   alias, a URL, or file:///PATH of a prepared image for offline use)
FAAS_MULTIPASS_LAUNCH_TIMEOUT  multipass launch's --timeout (default 300s; the first
                   launch downloads the image)
FAAS_IMAGE_DIR     where micro-VM images live (default $FAAS_HOME/images; faas image build)
FAAS_IMAGE_MIRROR  the Debian mirror image builds fetch from
FAAS_QEMU_BOOT_TIMEOUT  how long a micro-VM may take to boot until its agent answers
                   (default 90s; QEMU is killed past it)
FAAS_QEMU_ACCEL    kvm or tcg: force the micro-VMs' acceleration instead of detecting it
FAAS_QEMU_SNAPSHOTS  off: boot every micro-VM instead of restoring the snapshot of its
                   runtime and size (warm starts; docs/microvm.md)
FAAS_DEBUG         non-empty: print what faas runs on stderr (as --debug), and
                   when a warm local agent ran a faas invoke (the fast path)
FAAS_FAST_INVOKE   0: never hand faas invoke to a warm local agent (the fast
                   path: it records the same job; see docs/performance.md)
FAAS_SERVER        http://HOST:PORT of a ` + "`faas serve`" + `: deploy, up, down, invoke, ls,
                   rm, jobs, logs, rollback, bill and top go there instead of FAAS_HOME
FAAS_TOKEN         the API token for FAAS_SERVER (` + "`faas serve token create NAME`" + `)
FAAS_DATABASE_URL  keep the records in this PostgreSQL database (postgres://USER@HOST/DB
                   or host=… dbname=…; PG* variables and ~/.pgpass honoured) instead of
                   FAAS_HOME's SQLite file (` + "`faas db status`" + `)
FAAS_SECRETS_KEY_FILE  the key that seals secrets (default $FAAS_HOME/keys/secrets.key)
PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, pip.conf,
npm_config_*, .npmrc
                   read by dependency builds as pip and npm read them
NO_COLOR           any value: no colour
CLICOLOR           0: no colour
CLICOLOR_FORCE     non-zero: colour even when stdout is not a terminal
TZ                 the time zone of bill months and days

A function sees none of these. It gets PATH, HOME, TMPDIR, LANG, its --env
values, its --secret NAME=VAR variables and FAAS_SECRETS_DIR, PYTHONPATH or
NODE_PATH with dependencies, and FAAS_FUNCTION, FAAS_VERSION, FAAS_JOB_ID, FAAS_RUNTIME, FAAS_MODE,
FAAS_MEMORY_MB, FAAS_TIMEOUT_MS, FAAS_DEADLINE_MS and FAAS_PAYLOAD (scripts,
payloads under 32 KiB).`,
		},
	}
}

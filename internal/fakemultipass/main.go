// Package fakemultipass is a stand-in for Canonical's `multipass` client, for
// tests: it keeps its instances in a directory instead of VMs, runs guest
// commands on the host inside a per-instance root directory, and reproduces
// the command lines, JSON shapes, messages and exit codes documented in
// docs/multipass-cli.md. README.md beside this file lists what it supports.
package fakemultipass

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The versions reported by `multipass version`.
const (
	clientVersion = "1.16.3"
	daemonVersion = "1.16.3"
)

// Environment variables that configure the fake.
const (
	// EnvDir names the directory holding the state (required).
	EnvDir = "FAAS_FAKE_MULTIPASS_DIR"
	// EnvDaemonDown, when 1, makes every command fail as with a dead daemon.
	EnvDaemonDown = "FAAS_FAKE_MULTIPASS_DAEMON_DOWN"
	// EnvLaunchTimeout, when 1, makes every launch end with the
	// cloud-init/SSH timeout failure, leaving the instance Unknown.
	EnvLaunchTimeout = "FAAS_FAKE_MULTIPASS_LAUNCH_TIMEOUT"
	// EnvLaunchTimeouts=N makes only the first N launches of the state
	// directory time out, so that a retry can succeed.
	EnvLaunchTimeouts = "FAAS_FAKE_MULTIPASS_LAUNCH_TIMEOUTS"
	// EnvUnknown names instances (comma-separated) stuck in Unknown state.
	EnvUnknown = "FAAS_FAKE_MULTIPASS_UNKNOWN"
	// EnvUnknownOnce names instances that fall into Unknown state once and
	// can be recovered with `stop --force` and `start`.
	EnvUnknownOnce = "FAAS_FAKE_MULTIPASS_UNKNOWN_ONCE"
	// EnvDelay is a duration every command sleeps before answering.
	EnvDelay = "FAAS_FAKE_MULTIPASS_DELAY"
	// EnvBroken names instances (comma-separated) whose IP discovery fails,
	// failing every list or info that includes them while they run.
	EnvBroken = "FAAS_FAKE_MULTIPASS_BROKEN"
	// EnvSpinner=0 turns off the spinner bytes written to stdout.
	EnvSpinner = "FAAS_FAKE_MULTIPASS_SPINNER"
	// EnvLaunchTime is how long the daemon takes to create and boot an
	// instance (a duration): a launch --timeout shorter than it (with
	// EnvDelay) makes the client give up with exit 5 while the daemon goes
	// on, and the instance appears later.
	EnvLaunchTime = "FAAS_FAKE_MULTIPASS_LAUNCH_TIME"
)

const socketDown = "cannot connect to the multipass socket"

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dir            string
	getenv         func(string) string
}

// Main runs `multipass` with os.Args[1:] and returns its exit code.
func Main() int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if name := os.Getenv(envFinishLaunch); name != "" {
		// The daemon's side of a launch whose client gave up.
		os.Unsetenv(envFinishLaunch)
		c.setDir()
		return c.finishDetached(name)
	}
	return c.run(os.Args[1:])
}

type command func(c *cli, args []string) int

var commands map[string]command

func init() {
	commands = map[string]command{
		"delete":   (*cli).cmdDelete,
		"exec":     (*cli).cmdExec,
		"get":      (*cli).cmdGet,
		"help":     (*cli).cmdHelp,
		"info":     (*cli).cmdInfo,
		"launch":   (*cli).cmdLaunch,
		"list":     (*cli).cmdList,
		"purge":    (*cli).cmdPurge,
		"recover":  (*cli).cmdRecover,
		"restart":  (*cli).cmdRestart,
		"set":      (*cli).cmdSet,
		"start":    (*cli).cmdStart,
		"stop":     (*cli).cmdStop,
		"transfer": (*cli).cmdTransfer,
		"version":  (*cli).cmdVersion,
	}
	commands["ls"] = commands["list"]
	commands["copy-files"] = commands["transfer"]
}

func (c *cli) run(args []string) int {
	for len(args) > 0 && isVerbosity(args[0]) {
		args = args[1:]
	}
	if len(args) == 0 {
		c.printHelp(c.stdout)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" {
		c.printHelp(c.stdout)
		return 0
	}
	c.setDir()
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(c.stdout, "Error: Unknown command or alias '%s' (try \"multipass help\" or \"multipass aliases\")\n", args[0])
		return 1
	}
	return cmd(c, args[1:])
}

func (c *cli) setDir() {
	if d := c.getenv(EnvDir); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		c.dir = d
	}
}

func (c *cli) printHelp(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "Usage: multipass [options] <command>\nCreate, control and connect to Ubuntu instances.\n\n"+
		"This is a stand-in used by faas tests (internal/fakemultipass).\n\nAvailable commands:\n  %s\n", strings.Join(names, "\n  "))
}

func (c *cli) cmdHelp(args []string) int {
	c.printHelp(c.stdout)
	return 0
}

// daemonDown says whether the daemon is unreachable: injected, or no state
// directory configured.
func (c *cli) daemonDown() bool {
	return c.getenv(EnvDaemonDown) == "1" || c.dir == ""
}

// connect stands for reaching the daemon: it fails as a dead socket does,
// and otherwise waits the injected delay.
func (c *cli) connect(cmd string) (int, bool) {
	if c.daemonDown() {
		return c.fail(cmd, socketDown), false
	}
	time.Sleep(c.delay())
	return 0, true
}

func (c *cli) delay() time.Duration {
	v := strings.TrimSpace(c.getenv(EnvDelay))
	if v == "" {
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}

// fail prints a daemon failure and returns its exit code (2).
func (c *cli) fail(cmd, msg string) int {
	fmt.Fprintf(c.stderr, "%s failed: %s\n", cmd, msg)
	return 2
}

// usage prints a client-side error and returns its exit code (1).
func (c *cli) usage(msg string) int {
	fmt.Fprintln(c.stderr, msg)
	return 1
}

// clientException prints what the client's catch-all prints for an
// exception, and returns 1.
func (c *cli) clientException(msg string) int {
	c.logError("client", "Caught an unhandled exception: "+msg)
	return 1
}

func (c *cli) logError(category, msg string) {
	fmt.Fprintf(c.stderr, "[%s] [error] [%s] %s\n", time.Now().Format("2006-01-02T15:04:05.000"), category, msg)
}

// spin writes what the spinner leaves on stdout for one phase.
func (c *cli) spin(msg string) {
	if c.getenv(EnvSpinner) == "0" {
		return
	}
	fmt.Fprintf(c.stdout, "%s |\b/\b\x1b[2K\x1b[0A\x1b[0E", msg)
}

func listEnv(v string) []string { return listEnvSep(v, ",") }

func (c *cli) named(env, name string) bool {
	return slices.Contains(listEnv(c.getenv(env)), name)
}

// notFoundErrors formats the daemon's multi-instance error message.
func notFoundErrors(lines []string) string {
	return "The following errors occurred:\n" + strings.Join(lines, "\n")
}

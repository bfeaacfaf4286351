// Package function holds the words of a function's definition: its name,
// runtime, mode and limits, and the parsers that turn user input into them.
// It is pure: no I/O beyond what its callers hand it.
package function

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// Runtime is the program that runs a function's file.
type Runtime string

const (
	Python Runtime = "python"
	Node   Runtime = "node"
	Bash   Runtime = "bash"
	Exec   Runtime = "exec"
)

// Runtimes lists the runtimes in the order help texts show them.
var Runtimes = []Runtime{Python, Node, Bash, Exec}

// Mode says how a function is called.
type Mode string

const (
	// Handler: the file defines handler(event, context); its return value
	// is the result.
	Handler Mode = "handler"
	// Script: the payload is stdin, stdout is the result, one process per
	// invocation.
	Script Mode = "script"
)

// Limits and defaults. Memory and disk are in MiB.
const (
	DefaultMemoryMB    = 256
	DefaultCPUs        = 1
	DefaultDiskMB      = 5 * 1024
	DefaultTmpMB       = 64
	DefaultTimeout     = 30 * time.Second
	DefaultConcurrency = 1
	// DefaultMaxInstance (0) is as many instances as the host has CPUs
	// (HostInstances): more workers than CPUs only take turns on them, and
	// 10 instances of one slot were slower on 2 CPUs than one instance
	// (docs/performance.md).
	DefaultMaxInstance = 0

	MinMemoryMB    = 64
	MaxMemoryMB    = 64 * 1024
	MaxCPUs        = 64
	MinDiskMB      = 1024
	MaxDiskMB      = 1024 * 1024
	MaxTimeout     = time.Hour
	MaxConcurrency = 1000
	MaxInstances   = 1000
	MaxNameLength  = 40
	MaxCodeBytes   = 50 << 20
)

// Config is everything a version carries besides its code.
type Config struct {
	Runtime Runtime `json:"runtime"`
	Mode    Mode    `json:"mode"`
	// Handler is a handler-mode version's entry point (EntryNames; ""
	// in versions deployed before it could be named: "handler").
	Handler string `json:"handler,omitempty"`
	// Interpreter is the program that runs the version (python3, node,
	// bash), resolved once at its deploy on the local provider, and its
	// version: handler, script and #! files of a runtime all get it.
	Interpreter        string `json:"interpreter,omitempty"`
	InterpreterVersion string `json:"interpreter_version,omitempty"`
	MemoryMB           int64  `json:"memory_mb"`
	CPUs               int    `json:"cpus"`
	DiskMB             int64  `json:"disk_mb"`
	// TmpMB sizes a jailed function's /tmp, a tmpfs whose pages count
	// against MemoryMB (0, in versions deployed before it: the default).
	TmpMB        int64             `json:"tmp_mb,omitempty"`
	TimeoutMS    int64             `json:"timeout_ms"`
	Concurrency  int               `json:"concurrency"`
	MinInstances int               `json:"min_instances"`
	MaxInstances int               `json:"max_instances"`
	Env          map[string]string `json:"env"`
	// Secrets are the secrets the function reads, by name (secret.go).
	Secrets []SecretRef `json:"secrets,omitempty"`
	// Network is where a jailed function may connect, through its agent's
	// egress proxy: HOST or HOST:PORT each, "*" for anywhere; none: no
	// network at all.
	Network []string `json:"network,omitempty"`
	// Autoscale overrides of the global settings (0: the global one).
	ScaleTarget float64 `json:"scale_target,omitempty"`
	ScaleIdleMS int64   `json:"scale_idle_ms,omitempty"`
	// Schedule runs the function on an EventBridge rate() or cron()
	// expression, in ScheduleTZ ("" is UTC); "" for none.
	Schedule   string `json:"schedule,omitempty"`
	ScheduleTZ string `json:"schedule_tz,omitempty"`
	// OnFailure names the function an async job's final failure is sent
	// to, with the job's record (Lambda's on-failure destination).
	OnFailure string `json:"on_failure,omitempty"`
	// HTTP is who may call the function at faas serve's /fn/NAME:
	// HTTPPublic anyone, "" (HTTPPrivate) its owner's token only.
	HTTP string `json:"http,omitempty"`
}

// Who may call a function over HTTP (Config.HTTP).
const (
	HTTPPrivate = "private"
	HTTPPublic  = "public"
)

// HTTPAccess is who may call the function over HTTP: private or public.
func (c Config) HTTPAccess() string {
	if c.HTTP == HTTPPublic {
		return HTTPPublic
	}
	return HTTPPrivate
}

// ParseHTTPAccess reads --http: private (stored as "") or public.
func ParseHTTPAccess(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case HTTPPrivate, "":
		return "", nil
	case HTTPPublic:
		return HTTPPublic, nil
	}
	return "", fault.Usagef("--http %q: use private (the owner's token) or public (anyone)", s)
}

// Tmp is the size of /tmp in MiB: TmpMB, or the default for versions
// deployed before it existed.
func (c Config) Tmp() int64 {
	if c.TmpMB > 0 {
		return c.TmpMB
	}
	return DefaultTmpMB
}

// Entry is a handler-mode version's entry point.
func (c Config) Entry() string {
	if c.Handler != "" {
		return c.Handler
	}
	return DefaultEntry
}

// Instances is the most instances of the function at once: MaxInstances,
// or when that is 0 (the default) as many as the host has CPUs; never
// fewer than MinInstances.
func (c Config) Instances() int {
	n := c.MaxInstances
	if n <= 0 {
		n = HostInstances()
	}
	return max(n, c.MinInstances, 1)
}

// HostInstances is the default most instances of a function on this host:
// its CPUs (those this process may run on).
func HostInstances() int { return max(runtime.NumCPU(), 1) }

// Timeout returns the configured timeout as a duration.
func (c Config) Timeout() time.Duration { return time.Duration(c.TimeoutMS) * time.Millisecond }

// DefaultConfig returns the limits a deploy gets when it names none.
func DefaultConfig() Config {
	return Config{
		MemoryMB:     DefaultMemoryMB,
		CPUs:         DefaultCPUs,
		DiskMB:       DefaultDiskMB,
		TmpMB:        DefaultTmpMB,
		TimeoutMS:    DefaultTimeout.Milliseconds(),
		Concurrency:  DefaultConcurrency,
		MaxInstances: DefaultMaxInstance,
		Env:          map[string]string{},
	}
}

// Validate checks every field and says which is wrong.
func (c Config) Validate() error {
	if !c.Runtime.Valid() {
		return fault.Usagef("unknown runtime %q: use one of %s", c.Runtime, joinRuntimes())
	}
	if c.Mode != Handler && c.Mode != Script {
		return fault.Usagef("unknown mode %q: use handler or script", c.Mode)
	}
	if c.Mode == Handler && c.Runtime != Python && c.Runtime != Node {
		return fault.Usagef("handler mode needs the python or node runtime, not %s: use --mode script", c.Runtime)
	}
	switch {
	case c.MemoryMB < MinMemoryMB || c.MemoryMB > MaxMemoryMB:
		return fault.Usagef("memory %d MiB is out of range: use %dM to %dG", c.MemoryMB, MinMemoryMB, MaxMemoryMB/1024)
	case c.CPUs < 1 || c.CPUs > MaxCPUs:
		return fault.Usagef("cpus %d is out of range: use 1 to %d", c.CPUs, MaxCPUs)
	case c.DiskMB < MinDiskMB || c.DiskMB > MaxDiskMB:
		return fault.Usagef("disk %d MiB is out of range: use 1G to %dG", c.DiskMB, MaxDiskMB/1024)
	case c.TmpMB < 0 || c.TmpMB > c.MemoryMB:
		return fault.Usagef("tmp %d MiB is out of range: use 1M up to the function's memory (%s), which /tmp's files count against", c.TmpMB, FormatSize(c.MemoryMB))
	case c.TimeoutMS <= 0 || c.TimeoutMS > MaxTimeout.Milliseconds():
		return fault.Usagef("timeout %s is out of range: use more than 0s and at most %s", time.Duration(c.TimeoutMS)*time.Millisecond, MaxTimeout)
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return fault.Usagef("concurrency %d is out of range: use 1 to %d", c.Concurrency, MaxConcurrency)
	case c.MinInstances < 0 || c.MinInstances > MaxInstances:
		return fault.Usagef("min-instances %d is out of range: use 0 to %d", c.MinInstances, MaxInstances)
	case c.MaxInstances < 0 || c.MaxInstances > MaxInstances:
		return fault.Usagef("max-instances %d is out of range: use 1 to %d, or 0 for as many as the host has CPUs", c.MaxInstances, MaxInstances)
	case c.MaxInstances > 0 && c.MinInstances > c.MaxInstances:
		return fault.Usagef("min-instances %d is above max-instances %d", c.MinInstances, c.MaxInstances)
	case c.ScaleTarget < 0 || c.ScaleTarget > 1000:
		return fault.Usagef("scale-target %g is out of range: use more than 0 (jobs in flight per slot)", c.ScaleTarget)
	case validNetwork(c.Network) != nil:
		return validNetwork(c.Network)
	case c.ScaleIdleMS < 0:
		return fault.Usagef("scale-idle must be a positive duration")
	case c.HTTP != "" && c.HTTP != HTTPPrivate && c.HTTP != HTTPPublic:
		return fault.Usagef("http %q: use private or public", c.HTTP)
	}
	if err := c.validTriggers(); err != nil {
		return err
	}
	for k, v := range c.Env {
		if err := validateEnv(k, v); err != nil {
			return err
		}
	}
	return validSecrets(c.Secrets, c.Env)
}

// Valid reports whether r is a known runtime.
func (r Runtime) Valid() bool {
	for _, k := range Runtimes {
		if r == k {
			return true
		}
	}
	return false
}

func joinRuntimes() string {
	s := make([]string, len(Runtimes))
	for i, r := range Runtimes {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// nameRE is Multipass' instance-name rule (valid_hostname): a letter first,
// letters, digits and hyphens inside, a letter or digit last.
var nameRE = lazyRE(`^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)

// ValidateName checks a function name. Names follow Multipass' instance
// names so that `faas-<name>-<n>` is always a valid VM name and hostname.
func ValidateName(name string) error {
	if name == "" {
		return fault.Usagef("function name is empty")
	}
	if len(name) > MaxNameLength {
		return fault.Usagef("function name %q is longer than %d characters", name, MaxNameLength)
	}
	if !nameRE().MatchString(name) {
		return fault.Usagef("invalid function name %q: use a letter first, then letters, digits or hyphens, ending in a letter or digit", name)
	}
	return nil
}

// NameFromFile derives a function name from a file name: the base name
// without its extension, with underscores and dots turned into hyphens.
func NameFromFile(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return strings.NewReplacer("_", "-", ".", "-").Replace(base)
}

// ParseSize parses a size such as 256M, 1.5G, 512MiB or 2GB into MiB.
// Units are binary (K, M, G, T with an optional B or iB), as Multipass reads
// them; a bare number is MiB, as Lambda's memory setting is.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fault.Usagef("size is empty: use a number with a unit, like 256M or 2G")
	}
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.ToUpper(in[i:])
	f, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fault.Usagef("invalid size %q: use a number with a unit, like 256M or 2G", s)
	}
	// K, M, G or T may be followed by B or IB; a B alone would be bytes,
	// which no limit is counted in.
	if len(unit) > 1 {
		if u := strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I"); len(u) == 1 && u != unit {
			unit = u
		}
	}
	var mib float64
	switch unit {
	case "K":
		mib = f / 1024
	case "", "M":
		mib = f
	case "G":
		mib = f * 1024
	case "T":
		mib = f * 1024 * 1024
	default:
		return 0, fault.Usagef("invalid size %q: unknown unit %q, use K, M, G or T", s, in[i:])
	}
	if mib != math.Trunc(mib) {
		return 0, fault.Usagef("invalid size %q: it is not a whole number of MiB", s)
	}
	if mib > MaxDiskMB*1024 {
		return 0, fault.Usagef("invalid size %q: too large", s)
	}
	return int64(mib), nil
}

// FormatSize prints MiB the way ParseSize reads them back.
func FormatSize(mib int64) string {
	if mib >= 1024 && mib%1024 == 0 {
		return fmt.Sprintf("%dG", mib/1024)
	}
	return fmt.Sprintf("%dM", mib)
}

var envKeyRE = lazyRE(`^[A-Za-z_][A-Za-z0-9_]*$`)

func validateEnv(k, v string) error {
	if !envKeyRE().MatchString(k) {
		return fault.Usagef("invalid environment variable name %q: use letters, digits and underscores, not starting with a digit", k)
	}
	if strings.HasPrefix(strings.ToUpper(k), "FAAS_") {
		return fault.Usagef("environment variable %s: the FAAS_ prefix is reserved for what faas sets", k)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return fault.Usagef("environment variable %s: the value contains a NUL byte", k)
	}
	return nil
}

// ParseEnv turns K=V pairs into a map; a later pair for the same key wins.
func ParseEnv(pairs []string) (map[string]string, error) {
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fault.Usagef("invalid --env %q: use KEY=VALUE", p)
		}
		if err := validateEnv(k, v); err != nil {
			return nil, err
		}
		env[k] = v
	}
	return env, nil
}

// EnvList returns env as sorted K=V pairs.
func EnvList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// RuntimeFromFile picks the runtime by extension; other files run as
// executables.
func RuntimeFromFile(path string) Runtime {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".py":
		return Python
	case ".js", ".mjs", ".cjs":
		return Node
	case ".sh", ".bash":
		return Bash
	}
	return Exec
}

// RuntimeFromShebang is the runtime a file without an extension names in
// its #! line: python, node or bash (directly or through env), so that a
// `#!/usr/bin/env python3` script runs on the same interpreter as a .py
// file; Exec for anything else.
func RuntimeFromShebang(code []byte) Runtime {
	line, _, _ := bytes.Cut(code, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("#!")) {
		return Exec
	}
	f := strings.Fields(string(line[2:]))
	if len(f) > 1 && filepath.Base(f[0]) == "env" {
		f = f[1:]
		if f[0] == "-S" && len(f) > 1 {
			f = f[1:]
		}
	}
	if len(f) != 1 { // arguments to the interpreter: run it as it says
		return Exec
	}
	switch filepath.Base(f[0]) {
	case "python3", "python":
		return Python
	case "node", "nodejs":
		return Node
	case "bash":
		return Bash
	}
	return Exec
}

var (
	nodeESMRE = lazyRE(`(?m)^\s*(export|import)\s`)
)

// DetectMode says whether code defines an entry point (FindEntry) and so
// runs as a handler, or is a script.
func DetectMode(r Runtime, code []byte) Mode {
	if e, _ := FindEntry(r, code, ""); e.Name != "" {
		return Handler
	}
	return Script
}

// IsESModule reports whether Node code uses import/export syntax, which
// must be loaded as an ES module.
func IsESModule(code []byte) bool { return nodeESMRE().Match(code) }

// CheckCode rejects files that cannot be a function.
func CheckCode(path string, code []byte) error {
	if len(bytes.TrimSpace(code)) == 0 {
		return fault.Usagef("%s is empty: a function needs code", path)
	}
	if len(code) > MaxCodeBytes {
		return fault.Usagef("%s is %d bytes, over the %d MiB limit for a function's file", path, len(code), MaxCodeBytes>>20)
	}
	return nil
}

// MaxNetworkRules bounds --network.
const MaxNetworkRules = 64

// validNetwork checks an egress allow-list: "*", or HOST or HOST:PORT
// where HOST is a DNS name or an IP address (a leading "*." allows a
// domain's subdomains).
func validNetwork(rules []string) error {
	if len(rules) > MaxNetworkRules {
		return fault.Usagef("--network has %d entries: use at most %d", len(rules), MaxNetworkRules)
	}
	for _, r := range rules {
		if r == "*" {
			continue
		}
		host, port := r, ""
		if h, p, err := net.SplitHostPort(r); err == nil {
			host, port = h, p
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fault.Usagef("--network %q: the port must be 1 to 65535", r)
			}
		}
		name := strings.TrimPrefix(host, "*.")
		if net.ParseIP(host) == nil && (name == "" || len(name) > 253 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "") {
			return fault.Usagef("--network %q: use *, HOST or HOST:PORT (a name in lower case, or an IP address)", r)
		}
	}
	return nil
}

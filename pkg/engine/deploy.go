package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// ProviderAuto asks for the best provider that is usable here.
const ProviderAuto = "auto"

// ProviderChoices lists the --provider values: auto and every registered
// provider, by name.
func ProviderChoices() []string {
	names := provider.Names()
	slices.Sort(names)
	return append([]string{ProviderAuto}, names...)
}

// ReadCode reads a function's file, rejecting what cannot be a function.
func ReadCode(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fault.Usagef("%s: no such file", path)
	case err != nil:
		return nil, fault.Usagef("%s: %v", path, errors.Unwrap(err))
	case fi.IsDir():
		return nil, fault.Usagef("%s is a directory: deploy one file", path)
	case !fi.Mode().IsRegular():
		return nil, fault.Usagef("%s is not a regular file", path)
	case fi.Size() > function.MaxCodeBytes:
		return nil, fault.Usagef("%s is %d bytes, over the %d MiB limit for a function's file", path, fi.Size(), function.MaxCodeBytes>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fault.Usagef("%s: cannot read: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	code, err := io.ReadAll(io.LimitReader(f, function.MaxCodeBytes+1))
	if err != nil {
		return nil, fault.Usagef("%s: cannot read: %v", path, err)
	}
	if err := function.CheckCode(path, code); err != nil {
		return nil, err
	}
	return code, nil
}

// DeployRequest says what to deploy. Zero Runtime and Mode are detected
// from the file.
type DeployRequest struct {
	Name     string
	Filename string
	Code     []byte
	Runtime  function.Runtime
	Mode     function.Mode
	Provider string
	Config   function.Config
	// Keep makes a redeploy keep the current version's settings that Set
	// does not name (the command line's way: flags change only what they
	// name); without it Config is the whole config. Set names the settings
	// by their flags (memory, cpus, disk, tmp, timeout, concurrency,
	// min-instances, max-instances, network, handler, scale-target,
	// scale-idle, schedule, schedule-tz, on-failure).
	Keep bool
	Set  []string
	// Tree says Code is a bundle's canonical tar (pkg/bundle) and Filename
	// the path of its entry file in it; the engine checks the tar again.
	Tree bool
	// EnvUnset removes variables; EnvReplace starts from Config.Env alone
	// (an --env-file) instead of the current environment.
	EnvUnset   []string
	EnvReplace bool
	// Progress hears a dependency build's output as it is written.
	Progress io.Writer
	// SecretUnset stops secrets the current version reads; Config.Secrets
	// are added to (or replace by name) the current ones.
	SecretUnset []string
}

// deployCode checks a request's code: one file, or a tree whose tar is
// read again (never trusted) and stored in canonical form. It returns the
// code to store, the entry file's code and the name to store it under.
func deployCode(r DeployRequest) (code, entry []byte, filename string, tree *bundle.Bundle, err error) {
	if !r.Tree {
		if err := function.CheckCode(r.Filename, r.Code); err != nil {
			return nil, nil, "", nil, err
		}
		return r.Code, r.Code, filepath.Base(r.Filename), nil, nil
	}
	b, err := bundle.FromTar(r.Code, bundle.Options{})
	if err != nil {
		return nil, nil, "", nil, err
	}
	entry, ok := b.File(r.Filename)
	if !ok {
		return nil, nil, "", nil, fault.Usagef("the entry file %q is not in the function's files", r.Filename)
	}
	if err := function.CheckCode(r.Filename, entry); err != nil {
		return nil, nil, "", nil, err
	}
	return b.Tar(), entry, r.Filename, b, nil
}

// DeployResult says what a deploy did.
type DeployResult struct {
	Function string
	Version  store.Version
	Provider string
	// Created is false when the same code and config were already current.
	Created bool
	// Notice is a remark for the user, such as why auto chose local.
	Notice string
	// Warning, for a script that looks like it meant to be a handler,
	// names the flag to use.
	Warning string
	// EnvChanges says what the deploy did to the environment: "+A"
	// added, "-B" removed, "~C" changed.
	EnvChanges []string
	// Built says a dependency build ran (not one found already built).
	Built bool
}

// Deploy validates a request and records it as the function's current
// version. Nothing is written unless every check passes.
func (e *Engine) Deploy(ctx context.Context, r DeployRequest) (DeployResult, error) {
	name, err := deployName(r)
	if err != nil {
		return DeployResult{}, err
	}
	code, entryCode, filename, tree, err := deployCode(r)
	if err != nil {
		return DeployResult{}, err
	}
	cfg := r.Config
	var envChanges []string
	if r.Keep {
		if cur, err := e.function(ctx, name); err == nil {
			cfg, envChanges = kept(cur.Current.Config, r)
		} else if fault.KindOf(err) != fault.NotFound {
			return DeployResult{}, err
		} else {
			cfg, envChanges = kept(function.DefaultConfig(), r)
		}
	}
	cfg, warning, err := settle(r, cfg, entryCode, filename)
	if err != nil {
		return DeployResult{}, err
	}
	if err := e.checkSecrets(ctx, e.Owner, cfg.Secrets); err != nil {
		return DeployResult{}, err
	}
	prov, notice, err := e.resolveProvider(ctx, r.Provider)
	if err != nil {
		return DeployResult{}, err
	}
	if err := e.checkOnProvider(ctx, prov, cfg); err != nil {
		return DeployResult{}, err
	}
	if prov == provider.Default {
		cfg.Interpreter, cfg.InterpreterVersion = e.pinInterpreter(cfg.Runtime)
	}
	deps, built, buildLog, err := e.buildDeps(ctx, tree, cfg.Runtime, prov, r.Progress)
	if err != nil {
		return DeployResult{}, err
	}
	sum := sha256.Sum256(code)
	v, created, err := e.store.Deploy(ctx, store.DeployRequest{
		Name: name, Provider: prov, Owner: e.Owner, Filename: filename, Tree: r.Tree,
		Code: code, SHA256: hex.EncodeToString(sum[:]), Config: cfg, Now: e.Now(), OwnerOnly: e.Scoped,
		Deps: deps, BuildLog: buildLog,
	})
	if err != nil {
		return DeployResult{}, err
	}
	return DeployResult{Function: name, Version: v, Provider: prov, Created: created, Notice: notice,
		Warning: warning, EnvChanges: envChanges, Built: built}, nil
}

// Check validates a request that carries the whole config (Keep false)
// as Deploy would, and stores nothing: a manifest checks every function
// before it deploys any.
func Check(r DeployRequest) error {
	if _, err := deployName(r); err != nil {
		return err
	}
	_, entry, filename, _, err := deployCode(r)
	if err != nil {
		return err
	}
	_, _, err = settle(r, r.Config, entry, filename)
	return err
}

// deployName is the request's function name, checked: the file's name
// when the request names none.
func deployName(r DeployRequest) (string, error) {
	name := r.Name
	if name == "" {
		name = function.NameFromFile(r.Filename)
		if err := function.ValidateName(name); err != nil {
			return "", fault.WithHint(err, "name it with --name")
		}
	} else if err := function.ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}

// settle completes a version's config from its code: the runtime, the
// mode and the entry point, checked with every limit. warning names the
// flag to use for a script that looks like it meant to be a handler.
func settle(r DeployRequest, cfg function.Config, code []byte, filename string) (_ function.Config, warning string, _ error) {
	cfg.Runtime = r.Runtime
	if cfg.Runtime == "" {
		cfg.Runtime = function.RuntimeFromFile(r.Filename)
		if cfg.Runtime == function.Exec {
			cfg.Runtime = function.RuntimeFromShebang(code)
		}
	}
	entry, err := function.FindEntry(cfg.Runtime, code, cfg.Handler)
	if err != nil {
		return cfg, "", fault.Usagef("%s: %v", filename, err)
	}
	cfg.Mode, cfg.Handler = r.Mode, ""
	switch {
	case cfg.Mode == function.Script && entry.Named:
		return cfg, "", fault.Usagef("--handler and --mode script contradict each other: drop one")
	case cfg.Mode == "" && entry.Name != "", cfg.Mode == function.Handler && entry.Name != "":
		cfg.Mode, cfg.Handler = function.Handler, entry.Name
	case cfg.Mode == function.Handler && (cfg.Runtime == function.Python || cfg.Runtime == function.Node):
		return cfg, "", fault.WithHint(fault.Usagef("%s defines no handler, lambda_handler, handle or main", filename),
			"name its entry point with --handler NAME")
	case cfg.Mode == "":
		cfg.Mode, warning = function.Script, entry.Warning
	}
	if cfg.Env == nil {
		cfg.Env = map[string]string{}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", err
	}
	if cfg.Runtime == function.Exec && !bytes.HasPrefix(code, []byte("#!")) && !bytes.HasPrefix(code, []byte("\x7fELF")) {
		return cfg, "", fault.Usagef("%s is not an executable (no #! line, not ELF): name its runtime with --runtime python|node|bash", filename)
	}
	return cfg, warning, nil
}

// resolveProvider turns --provider into the provider recorded on the
// function: auto is the best registered provider that detects itself as
// usable here (Multipass where its daemon answers), else the default.
func (e *Engine) resolveProvider(ctx context.Context, p string) (string, string, error) {
	if p == "" || p == ProviderAuto {
		if e.override != nil {
			return provider.Default, "", nil
		}
		for _, reg := range provider.Registered() {
			if reg.Detect == nil {
				continue
			}
			av := reg.Detect(ctx)
			if !av.Usable {
				if av.Notice != "" {
					return provider.Default, av.Notice + ": using the " + provider.Default + " provider", nil
				}
				continue
			}
			if _, err := e.ProviderFor(ctx, reg.Name); err != nil {
				return provider.Default, reg.Name + " cannot be used (" + err.Error() + "): using the " + provider.Default + " provider", nil
			}
			return reg.Name, "", nil
		}
		return provider.Default, "", nil
	}
	if _, ok := provider.Lookup(p); !ok {
		return "", "", fault.Usagef("unknown provider %q: use %s", p, strings.Join(ProviderChoices(), ", "))
	}
	if p != provider.Default {
		if _, err := e.ProviderFor(ctx, p); err != nil {
			return "", "", err
		}
	}
	return p, "", nil
}

// Functions lists deployed functions.
func (e *Engine) Functions(ctx context.Context) ([]store.Function, error) {
	return e.store.ListFunctions(ctx, e.Owner, e.Scoped)
}

// Function returns one function with its current version.
func (e *Engine) Function(ctx context.Context, name string) (store.Function, error) {
	if err := function.ValidateName(name); err != nil {
		return store.Function{}, err
	}
	return e.function(ctx, name)
}

// Remove deletes a function and its versions; its jobs are kept.
func (e *Engine) Remove(ctx context.Context, name string) error {
	if err := function.ValidateName(name); err != nil {
		return err
	}
	if e.Scoped {
		if _, err := e.function(ctx, name); err != nil {
			return err
		}
	}
	if err := e.store.DeleteFunction(ctx, name); err != nil {
		return err
	}
	if err := e.stopInstances(ctx, name); err != nil {
		return err
	}
	// Its dependency environments go too, unless another version uses
	// them (best effort: a failed prune is tried again at the next rm).
	_, _, _ = e.PruneEnvs(ctx)
	return nil
}

// stopInstances ends a function's instances and forgets them.
func (e *Engine) stopInstances(ctx context.Context, name string) error {
	insts, err := e.store.ListInstances(ctx, name)
	if err != nil || len(insts) == 0 {
		return err
	}
	for _, in := range insts {
		p, err := e.ProviderFor(ctx, in.Provider)
		if err != nil {
			return err
		}
		if err := p.Stop(ctx, in.Instance); err != nil {
			return err
		}
		if err := e.store.RemoveInstance(ctx, in.ID); err != nil {
			return err
		}
	}
	return nil
}

// Rollback makes an earlier version current (to == 0: the one before).
func (e *Engine) Rollback(ctx context.Context, name string, to int) (from, now int, err error) {
	if err := function.ValidateName(name); err != nil {
		return 0, 0, err
	}
	if to < 0 {
		return 0, 0, fault.Usagef("--to %d: versions start at 1", to)
	}
	if e.Scoped {
		if _, err := e.function(ctx, name); err != nil {
			return 0, 0, err
		}
	}
	return e.store.Rollback(ctx, name, to, e.Now())
}

// kept is the config of a redeploy that keeps what it does not name: base
// (the current version's, or the defaults) with the settings r.Set names
// taken from r.Config, and the environment changed as r says.
func kept(base function.Config, r DeployRequest) (function.Config, []string) {
	cfg, given := base, r.Config
	set := map[string]bool{}
	for _, k := range r.Set {
		set[k] = true
	}
	take := func(k string, apply func()) {
		if set[k] {
			apply()
		}
	}
	take("memory", func() { cfg.MemoryMB = given.MemoryMB })
	take("cpus", func() { cfg.CPUs = given.CPUs })
	take("disk", func() { cfg.DiskMB = given.DiskMB })
	take("tmp", func() { cfg.TmpMB = given.TmpMB })
	take("timeout", func() { cfg.TimeoutMS = given.TimeoutMS })
	take("concurrency", func() { cfg.Concurrency = given.Concurrency })
	take("min-instances", func() { cfg.MinInstances = given.MinInstances })
	take("max-instances", func() { cfg.MaxInstances = given.MaxInstances })
	take("network", func() { cfg.Network = given.Network })
	take("scale-target", func() { cfg.ScaleTarget = given.ScaleTarget })
	take("scale-idle", func() { cfg.ScaleIdleMS = given.ScaleIdleMS })
	take("http", func() { cfg.HTTP = given.HTTP })
	take("schedule", func() { cfg.Schedule = given.Schedule })
	take("schedule-tz", func() { cfg.ScheduleTZ = given.ScheduleTZ })
	take("on-failure", func() { cfg.OnFailure = given.OnFailure })
	// The entry point: the one named now, else the one named before.
	// The entry point: the one named now, else one named before with
	// --handler (a name faas would not have found itself).
	cfg.Handler = given.Handler
	if !set["handler"] && r.Mode != function.Script && base.Mode == function.Handler && !slices.Contains(function.EntryNames, base.Handler) &&
		base.Handler != "" && base.Handler != function.NodeDefaultExport {
		cfg.Handler = base.Handler
	}
	env := map[string]string{}
	if !r.EnvReplace {
		for k, v := range base.Env {
			env[k] = v
		}
	}
	for k, v := range given.Env {
		env[k] = v
	}
	for _, k := range r.EnvUnset {
		delete(env, k)
	}
	cfg.Env = env
	cfg.Secrets = keptSecrets(base.Secrets, given.Secrets, r.SecretUnset)
	var changes []string
	for k, v := range env {
		old, had := base.Env[k]
		switch {
		case !had:
			changes = append(changes, "+"+k)
		case old != v:
			changes = append(changes, "~"+k)
		}
	}
	for k := range base.Env {
		if _, ok := env[k]; !ok {
			changes = append(changes, "-"+k)
		}
	}
	slices.SortFunc(changes, func(a, b string) int { return strings.Compare(a[1:], b[1:]) })
	return cfg, changes
}

// Versions lists a function's versions, newest first, without their code.
func (e *Engine) Versions(ctx context.Context, name string) ([]store.Version, error) {
	if _, err := e.Function(ctx, name); err != nil {
		return nil, err
	}
	return e.store.ListVersions(ctx, name)
}

// VersionCode reads a version with its code (0: the current version).
func (e *Engine) VersionCode(ctx context.Context, name string, version int) (store.Version, error) {
	fn, err := e.Function(ctx, name)
	if err != nil {
		return store.Version{}, err
	}
	if version < 0 {
		return store.Version{}, fault.Usagef("--version %d: use 1 or more (0: the current version)", version)
	}
	if version == 0 {
		version = fn.Current.Version
	}
	return e.store.GetVersion(ctx, name, version)
}

// keptSecrets is a redeploy's secrets: the current ones, with those given
// added (or replacing one of the same name) and those unset removed.
func keptSecrets(base, given []function.SecretRef, unset []string) []function.SecretRef {
	var out []function.SecretRef
	for _, s := range base {
		if !slices.ContainsFunc(given, func(g function.SecretRef) bool { return g.Name == s.Name }) && !slices.Contains(unset, s.Name) {
			out = append(out, s)
		}
	}
	for _, g := range given {
		if !slices.Contains(unset, g.Name) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b function.SecretRef) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// BuildLog is what the current version's dependency build printed ("" for
// a version with none, or built before it was kept).
func (e *Engine) BuildLog(ctx context.Context, name string) ([]byte, error) {
	fn, err := e.Function(ctx, name)
	if err != nil {
		return nil, err
	}
	return fn.Current.BuildLog, nil
}

package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// scheme changes when how an environment is built changes (pip's or npm's
// flags, the layout), so that no environment built the old way is reused.
const scheme = 1

// plan is one build, decided before anything runs: its key, its programs,
// what it takes of the host's configuration, and whether it needs the
// network.
type plan struct {
	spec Spec
	key  string
	// prog is python3 or node; npm is npm's own script, run by node.
	prog, npm string
	offline   bool
	// settings are the PIP_* or npm_config_* variables the build gets.
	settings []string
	// configs are configuration files the build reads, copied in.
	configs []config
	// dirs are host directories the build reads (wheelhouses), bound
	// read-only at their own path.
	dirs []string
	// local are a Node package's local dependencies, relative to its
	// directory.
	local []string
}

// config is a configuration file of pip's or npm's: the host's, and where
// the build finds it; setting is the variable that names it, if one does.
type config struct {
	host, jail, setting string
	data                []byte
}

// configDir is where a jailed build finds the files its settings name
// (which may be under a directory the jail has read-only, as
// PIP_CERT=/etc/ssl/…): the settings are rewritten to name them there.
const configDir = "/etc/faas"

// jailSettings are the settings as a jailed build gets them.
func (p *plan) jailSettings() []string {
	out := make([]string, 0, len(p.settings))
	for _, kv := range p.settings {
		k, _, _ := strings.Cut(kv, "=")
		for _, c := range p.configs {
			if c.setting == k {
				kv = k + "=" + c.jail
			}
		}
		out = append(out, kv)
	}
	return out
}

// keyInputs are everything a build's result depends on; their sha256 is
// the environment's key.
type keyInputs struct {
	Scheme   int    `json:"scheme"`
	Runtime  string `json:"runtime"`
	Platform string `json:"platform"`
	// Tools identify the interpreter and npm: path, size, modification
	// time (an upgrade or a reinstall changes them; asking the program its
	// version would cost tens of milliseconds on every deploy).
	Tools    []string          `json:"tools"`
	Files    map[string]string `json:"files"`
	Settings []string          `json:"settings"`
	Configs  map[string]string `json:"configs"`
	Local    map[string]string `json:"local"`
}

func (in keyInputs) key() string {
	b, _ := json.Marshal(in) // maps marshal in key order: the same inputs, the same bytes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// identity names a program file by path, size and modification time.
func identity(path string) (string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d", path, fi.Size(), fi.ModTime().UnixNano()), nil
}

// plan decides s's build and its key.
func (b *Builder) plan(s Spec) (*plan, error) {
	need, err := Needs(s.Runtime, s.Files)
	if err != nil {
		return nil, err
	}
	if !need {
		return nil, fault.Usagef("%s: no dependencies to build", s.Runtime)
	}
	for name := range s.Files {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return nil, fault.Usagef("dependency file %q: want a file name, not a path", name)
		}
		if name == MetaFile || name == PythonDir || name == NodeDir {
			return nil, fault.Usagef("dependency file %q: the name is the environment's own", name)
		}
	}
	p := &plan{spec: s}
	if p.prog, err = b.interp().Find(s.Runtime); err != nil {
		return nil, err
	}
	in := keyInputs{Scheme: scheme, Runtime: string(s.Runtime), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Files: map[string]string{}, Configs: map[string]string{}, Local: map[string]string{}}
	for name, data := range s.Files {
		in.Files[name] = sum(data)
	}
	tools := []string{p.prog}
	env := b.environ()
	switch s.Runtime {
	case function.Python:
		err = p.pythonSettings(env, in.Local)
	case function.Node:
		if p.npm, err = b.findNPM(p.prog); err != nil {
			return nil, err
		}
		tools = append(tools, filepath.Join(filepath.Dir(filepath.Dir(p.npm)), "package.json"))
		if err = p.nodeSettings(env); err == nil {
			err = p.localDeps(in.Local)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, t := range tools {
		id, err := identity(t)
		if err != nil {
			return nil, fault.Platformf("%s: %w", t, err)
		}
		in.Tools = append(in.Tools, id)
	}
	for _, c := range p.configs {
		in.Configs[c.jail] = sum(c.data)
	}
	sort.Strings(p.settings)
	in.Settings = p.settings
	p.key = in.key()
	return p, nil
}

// lookup is a variable of env, the last one set.
func lookup(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// truthy reads a boolean setting as pip and npm do.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "y", "yes", "t", "true", "on":
		return true
	}
	return false
}

// pipDropped are pip settings that would fight the build's own options
// (--target, --no-cache-dir) or refuse to run outside a virtualenv.
var pipDropped = map[string]bool{"PIP_USER": true, "PIP_TARGET": true, "PIP_PREFIX": true, "PIP_ROOT": true,
	"PIP_CACHE_DIR": true, "PIP_NO_CACHE_DIR": true, "PIP_REQUIRE_VIRTUALENV": true, "PIP_LOG": true, "PIP_LOG_FILE": true}

// pipFiles are pip settings that name a file, which the build reads.
var pipFiles = map[string]bool{"PIP_CONFIG_FILE": true, "PIP_CERT": true, "PIP_CLIENT_CERT": true}

// pythonSettings takes pip's configuration from env: every PIP_* variable
// but those that fight the build's own options, the files they name
// (copied in), local find-links directories (bound, their listing in the
// key), and pip.conf files (global and the user's).
func (p *plan) pythonSettings(env []string, local map[string]string) error {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "PIP_") || pipDropped[k] {
			continue
		}
		switch {
		case k == "PIP_NO_INDEX":
			p.offline = truthy(v)
		case k == "PIP_FIND_LINKS":
			var links []string
			for _, l := range strings.Fields(v) {
				dir, isPath := localPath(l)
				if isPath {
					l = dir
					if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
						p.dirs = append(p.dirs, dir)
						local[dir] = listing(dir)
					}
				}
				links = append(links, l)
			}
			v = strings.Join(links, " ")
		case pipFiles[k] && v != os.DevNull:
			abs, err := p.settingConfig(k, v)
			if err != nil {
				return err
			}
			v = abs
		}
		p.settings = append(p.settings, k+"="+v)
	}
	home := lookup(env, "HOME")
	user := lookup(env, "XDG_CONFIG_HOME")
	if user == "" && home != "" {
		user = filepath.Join(home, ".config")
	}
	for _, c := range []config{
		{host: "/etc/pip.conf", jail: "/etc/pip.conf"},
		{host: "/etc/xdg/pip/pip.conf", jail: "/etc/xdg/pip/pip.conf"},
		{host: filepath.Join(user, "pip", "pip.conf"), jail: jailHome + "/.config/pip/pip.conf"},
		{host: filepath.Join(home, ".pip", "pip.conf"), jail: jailHome + "/.pip/pip.conf"},
	} {
		p.addConfig(c)
	}
	return nil
}

// addConfig takes a configuration file when the host has it.
func (p *plan) addConfig(c config) {
	if !filepath.IsAbs(c.host) {
		return
	}
	if data, err := os.ReadFile(c.host); err == nil {
		c.data = data
		p.configs = append(p.configs, c)
	}
}

// npmDropped are npm settings the build sets itself (where its cache,
// prefix and configuration files are) or that would point it at files it
// does not have.
var npmDropped = map[string]bool{"cache": true, "userconfig": true, "globalconfig": true, "prefix": true, "global": true, "logs_dir": true}

// nodeSettings takes npm's configuration from env: every npm_config_*
// variable but those the build sets itself, the CA file one names, the
// user's .npmrc (npm_config_userconfig or ~/.npmrc) and the global one
// (npm_config_globalconfig or PREFIX/etc/npmrc, where a CA file is often
// set): the build names both, as --prefix would make npm look for the
// global one in the environment.
func (p *plan) nodeSettings(env []string) error {
	userconfig := ""
	if home := lookup(env, "HOME"); home != "" {
		userconfig = filepath.Join(home, ".npmrc")
	}
	globalconfig := filepath.Join(filepath.Dir(filepath.Dir(p.prog)), "etc", "npmrc")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, "npm_config_")
		if !ok {
			continue
		}
		name = strings.ReplaceAll(name, "-", "_")
		switch {
		case name == "userconfig":
			userconfig = v
		case name == "globalconfig":
			globalconfig = v
		case name == "offline":
			p.offline = truthy(v)
		case name == "cafile" && v != "":
			abs, err := p.settingConfig(k, v)
			if err != nil {
				return err
			}
			v = abs
		}
		if !npmDropped[name] {
			p.settings = append(p.settings, k+"="+v)
		}
	}
	for _, c := range []config{
		{host: userconfig, jail: jailHome + "/.npmrc", setting: "userconfig"},
		{host: globalconfig, jail: configDir + "/npmrc", setting: "globalconfig"},
	} {
		if c.host != "" {
			c.host, _ = filepath.Abs(c.host)
			p.addConfig(c)
		}
	}
	return nil
}

// npmrc is npm's user or global configuration file as the build finds it
// (os.DevNull when there is none: npm reads no other).
func (p *plan) npmrc(which string, jailed bool) string {
	for _, c := range p.configs {
		if c.setting == which && jailed {
			return c.jail
		} else if c.setting == which {
			return c.host
		}
	}
	return os.DevNull
}

// localPath says whether a find-links entry is a local path (a plain path
// or a file:// URL) and makes it absolute.
func localPath(l string) (string, bool) {
	if rest, ok := strings.CutPrefix(l, "file://"); ok {
		return filepath.Clean(rest), true
	}
	if strings.Contains(l, "://") {
		return l, false
	}
	abs, err := filepath.Abs(l)
	if err != nil {
		return l, false
	}
	return abs, true
}

// listing is what a wheelhouse holds, as names and sizes: a wheel added,
// replaced or removed changes the key.
func listing(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	h := sha256.New()
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			fmt.Fprintf(h, "%s %d\n", e.Name(), fi.Size())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// settingConfig copies the configuration file a setting k names (v) into the
// build's jail, and returns its absolute path.
func (p *plan) settingConfig(k, v string) (string, error) {
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", fault.Usagef("%s=%s: %w", k, v, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return "", fault.Usagef("%s=%s: %w", k, v, err)
	}
	p.configs = append(p.configs, config{host: abs, jail: configDir + "/" + k, setting: k, data: data})
	return abs, nil
}

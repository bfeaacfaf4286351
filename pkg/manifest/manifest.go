// Package manifest reads faas.yaml, the list of a project's functions
// with every deploy setting, for `faas up` and `faas down`. It checks the
// file's shape and each value's type, and says where every error is, all
// at once; the values themselves are checked by what deploys them, which
// points back here with the positions a Function keeps.
package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// DefaultFile is the manifest `faas up` reads without -f.
const DefaultFile = "faas.yaml"

// Version is the only manifest version there is.
const Version = 1

// Pos is a place in the manifest, 1-based.
type Pos struct{ Line, Col int }

// Error is one thing wrong with a manifest, where it is.
type Error struct {
	Pos
	Msg string
}

// Errors are everything wrong with a manifest, in the file's order.
type Errors struct {
	File string
	List []Error
}

// Add records an error at p.
func (e *Errors) Add(p Pos, format string, args ...any) {
	e.List = append(e.List, Error{p, fmt.Sprintf(format, args...)})
}

// Lines are the errors as FILE:LINE:COLUMN: MESSAGE, sorted by place.
func (e *Errors) Lines() []string {
	slices.SortStableFunc(e.List, func(a, b Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	out := make([]string, len(e.List))
	for i, x := range e.List {
		out[i] = fmt.Sprintf("%s:%d:%d: %s", e.File, x.Line, x.Col, x.Msg)
	}
	return out
}

// Manifest is a parsed faas.yaml.
type Manifest struct {
	// File is the manifest's path as given; Dir is its directory, which
	// the paths in it are relative to.
	File, Dir string
	Version   int
	Functions []Function
}

// Function is one entry of the manifest: its deploy settings, with the
// defaults of `faas deploy` for those it omits.
type Function struct {
	Name string
	// File is the path key, joined to the manifest's directory; EnvFile
	// likewise.
	File, EnvFile                    string
	Handler, Runtime, Mode, Provider string
	// HTTP is who may call it at /fn/NAME: private or public.
	HTTP                            string
	Schedule, ScheduleTZ, OnFailure string
	Memory, Disk, Tmp               string
	CPUs, Concurrency               int
	MinInstances, MaxInstances      int
	Timeout, ScaleIdle              time.Duration
	ScaleTarget                     float64
	Env                             map[string]string
	Secrets, Network                []string
	// Pos is where the function's name is; At is where each key given
	// has its value.
	Pos Pos
	At  map[string]Pos
}

// Lookup returns the function named name.
func (m *Manifest) Lookup(name string) (Function, bool) {
	for _, f := range m.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Load reads and parses a manifest (see Parse). A file that cannot be
// read is a usage error.
func Load(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fault.WithHint(fault.Usagef("%s: no such file", file), "write one (see `faas up --help`), or name it with -f")
	case err != nil:
		return nil, fault.Usagef("%s: %v", file, errors.Unwrap(err))
	}
	return Parse(file, data)
}

// Parse parses a manifest's bytes; file names it in errors and places the
// paths in it. With errors it returns them as *Errors, and the functions
// that have a valid name and a path, their bad values left at the
// defaults, for more checks.
func Parse(file string, data []byte) (*Manifest, error) {
	m := &Manifest{File: file, Dir: filepath.Dir(file), Version: Version}
	errs := &Errors{File: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		errs.Add(syntaxPos(err), "%s", syntaxMsg(err))
		return m, errs
	}
	if len(doc.Content) == 0 {
		errs.Add(Pos{1, 1}, "the manifest is empty: list functions under `functions:`")
		return m, errs
	}
	root := deref(doc.Content[0])
	var functions *yaml.Node
	eachKey(errs, root, "the manifest", []string{"version", "functions"}, func(k string, key, v *yaml.Node) {
		switch k {
		case "version":
			if n, ok := intValue(errs, k, v); ok && n != Version {
				errs.Add(pos(v), "version %d: this faas reads version %d", n, Version)
			}
		case "functions":
			functions = v
		}
	})
	if root.Kind == yaml.MappingNode && functions == nil {
		errs.Add(pos(root), "no `functions:`: list the functions to deploy under it")
	}
	switch {
	case functions == nil:
	case functions.Kind != yaml.MappingNode:
		errs.Add(pos(functions), "functions: want a map of function names to their settings")
	case len(functions.Content) == 0:
		errs.Add(pos(functions), "functions is empty: list at least one")
	default:
		eachKey(errs, functions, "functions", nil, func(name string, key, v *yaml.Node) {
			if f, ok := parseFunction(errs, m.Dir, name, key, v); ok {
				m.Functions = append(m.Functions, f)
			}
		})
	}
	if len(errs.List) > 0 {
		return m, errs
	}
	return m, nil
}

// Error is the summary line; Lines has the errors themselves.
func (e *Errors) Error() string {
	if len(e.List) == 1 {
		return fmt.Sprintf("%s has an error: nothing was changed", e.File)
	}
	return fmt.Sprintf("%s has %d errors: nothing was changed", e.File, len(e.List))
}

// Unwrap makes Errors a usage error (exit 2).
func (e *Errors) Unwrap() error { return fault.Usagef("%s", e.Error()) }

func parseFunction(errs *Errors, dir, name string, key, v *yaml.Node) (Function, bool) {
	if err := function.ValidateName(name); err != nil {
		errs.Add(pos(key), "%v", err)
	}
	f := Defaults()
	f.Name, f.Pos, f.At = name, pos(key), map[string]Pos{}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		errs.Add(pos(key), "function %s has no settings: it needs at least a path", name)
		return f, false
	}
	eachKey(errs, v, "function "+name, FunctionKeys(), func(k string, key, v *yaml.Node) {
		f.At[k] = pos(v)
		functionKeys[k](errs, &f, k, v)
	})
	_, hasPath := f.At["path"]
	if v.Kind == yaml.MappingNode && !hasPath {
		errs.Add(pos(key), "function %s has no path: name its file", name)
	}
	if f.File != "" && !filepath.IsAbs(f.File) {
		f.File = filepath.Join(dir, f.File)
	}
	if f.EnvFile != "" && !filepath.IsAbs(f.EnvFile) {
		f.EnvFile = filepath.Join(dir, f.EnvFile)
	}
	// A function with a name and a file is kept, whatever else is wrong
	// with it, so that what deploys it can report the rest too.
	return f, f.File != "" && function.ValidateName(name) == nil
}

// Defaults are a function that sets nothing: `faas deploy`'s flag defaults.
func Defaults() Function {
	def := function.DefaultConfig()
	return Function{
		Memory: function.FormatSize(def.MemoryMB), Disk: function.FormatSize(def.DiskMB), Tmp: function.FormatSize(def.TmpMB),
		CPUs: def.CPUs, Concurrency: def.Concurrency, MinInstances: def.MinInstances, MaxInstances: def.MaxInstances,
		Timeout: def.Timeout(), Env: map[string]string{}, HTTP: function.HTTPPrivate,
	}
}

// eachKey calls fn for each key of a mapping, in order, after checking
// that it is a mapping of string keys, each once, and (allowed non-nil)
// each one known.
func eachKey(errs *Errors, n *yaml.Node, what string, allowed []string, fn func(k string, key, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		errs.Add(pos(n), "%s: want a map of keys to values", what)
		return
	}
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i], deref(n.Content[i+1])
		if key.Kind != yaml.ScalarNode {
			errs.Add(pos(key), "%s: a key must be a name", what)
			continue
		}
		k := key.Value
		if key.Tag == "!!merge" {
			errs.Add(pos(key), "%s: YAML merge keys (<<) are not supported: write the settings out", what)
			continue
		}
		if p, dup := seen[k]; dup {
			errs.Add(pos(key), "%s: %s is given twice (first at line %d)", what, k, p.Line)
			continue
		}
		seen[k] = pos(key)
		if allowed != nil && !slices.Contains(allowed, k) {
			errs.Add(pos(key), "%s: unknown key %q%s", what, k, suggest(k, allowed))
			continue
		}
		fn(k, key, v)
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

func intValue(errs *Errors, k string, v *yaml.Node) (int, bool) {
	var n int
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
		errs.Add(pos(v), "%s: want a whole number, not %s", k, describe(v))
		return 0, false
	}
	return n, true
}

// yaml's syntax errors say "yaml: line N: what"; they have no column.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): `)

func syntaxPos(err error) Pos {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Pos{n, 1}
	}
	return Pos{1, 1}
}

func syntaxMsg(err error) string {
	msg := syntaxLine.ReplaceAllString(err.Error(), "")
	return "not YAML: " + strings.TrimPrefix(msg, "yaml: ")
}

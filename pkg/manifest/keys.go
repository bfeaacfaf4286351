package manifest

import (
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faasdev/faas/pkg/function"
)

// A key's parser sets its field of f from v, or records why it cannot.
type keyParser func(errs *Errors, f *Function, k string, v *yaml.Node)

// functionKeys are a function's settings: `faas deploy`'s flags, spelled
// with underscores (secrets for --secret). A key not here is an error;
// the triggers (schedule, on_failure) are keys here too.
var functionKeys = map[string]keyParser{
	"path":          str(func(f *Function) *string { return &f.File }),
	"handler":       str(func(f *Function) *string { return &f.Handler }),
	"runtime":       str(func(f *Function) *string { return &f.Runtime }),
	"mode":          str(func(f *Function) *string { return &f.Mode }),
	"provider":      str(func(f *Function) *string { return &f.Provider }),
	"env_file":      str(func(f *Function) *string { return &f.EnvFile }),
	"http":          str(func(f *Function) *string { return &f.HTTP }),
	"memory":        size(func(f *Function) *string { return &f.Memory }),
	"disk":          size(func(f *Function) *string { return &f.Disk }),
	"tmp":           size(func(f *Function) *string { return &f.Tmp }),
	"cpus":          integer(func(f *Function) *int { return &f.CPUs }),
	"concurrency":   integer(func(f *Function) *int { return &f.Concurrency }),
	"min_instances": integer(func(f *Function) *int { return &f.MinInstances }),
	"max_instances": integer(func(f *Function) *int { return &f.MaxInstances }),
	"timeout":       duration(func(f *Function) *time.Duration { return &f.Timeout }),
	"scale_idle":    duration(func(f *Function) *time.Duration { return &f.ScaleIdle }),
	"schedule":      str(func(f *Function) *string { return &f.Schedule }),
	"schedule_tz":   str(func(f *Function) *string { return &f.ScheduleTZ }),
	"on_failure":    str(func(f *Function) *string { return &f.OnFailure }),
	"scale_target": func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f.ScaleTarget) != nil {
			errs.Add(pos(v), "%s: want a number, such as 0.7", k)
		}
	},
	"network": list(func(f *Function) *[]string { return &f.Network }, nil),
	"secrets": list(func(f *Function) *[]string { return &f.Secrets }, func(s string) error {
		_, err := function.ParseSecretRef(s)
		return err
	}),
	"env": func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind != yaml.MappingNode {
			errs.Add(pos(v), "%s: want a map of variable names to values", k)
			return
		}
		eachKey(errs, v, k, nil, func(name string, key, val *yaml.Node) {
			switch {
			case val.Kind != yaml.ScalarNode:
				errs.Add(pos(val), "%s.%s: want a value such as a string or a number", k, name)
			case val.Tag == "!!null":
				f.Env[name] = ""
			default:
				f.Env[name] = val.Value
			}
		})
	},
}

// FunctionKeys are the keys a function's settings may have, sorted.
func FunctionKeys() []string { return slices.Sorted(maps.Keys(functionKeys)) }

// TopKeys are the keys of the manifest itself.
func TopKeys() []string { return []string{"functions", "version"} }

// KeyOfFlag is the manifest key of a `faas deploy` flag.
func KeyOfFlag(flag string) string {
	if flag == "secret" {
		return "secrets"
	}
	return strings.ReplaceAll(flag, "-", "_")
}

func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.Tag == "!!null" }

func str(field func(*Function) *string) keyParser {
	return func(errs *Errors, f *Function, k string, v *yaml.Node) {
		switch {
		case isNull(v):
			errs.Add(pos(v), "%s has no value", k)
		case v.Kind != yaml.ScalarNode || v.Tag != "!!str":
			errs.Add(pos(v), "%s: want a string", k)
		case v.Value == "":
			errs.Add(pos(v), "%s is empty", k)
		default:
			*field(f) = v.Value
		}
	}
}

// size is a size such as 256M (checked by the deploy), or a bare number
// of MiB.
func size(field func(*Function) *string) keyParser {
	return func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!int") {
			errs.Add(pos(v), "%s: want a size such as 256M or 2G", k)
			return
		}
		*field(f) = v.Value
	}
}

func integer(field func(*Function) *int) keyParser {
	return func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(field(f)) != nil {
			errs.Add(pos(v), "%s: want a whole number, not %s", k, describe(v))
		}
	}
}

func duration(field func(*Function) *time.Duration) keyParser {
	return func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			if d, err := time.ParseDuration(v.Value); err == nil {
				*field(f) = d
				return
			}
		}
		errs.Add(pos(v), "%s: want a duration with a unit, such as 30s or 2m, not %s", k, describe(v))
	}
}

// list is a list of strings, each checked by check when it is not nil.
func list(field func(*Function) *[]string, check func(string) error) keyParser {
	return func(errs *Errors, f *Function, k string, v *yaml.Node) {
		if v.Kind != yaml.SequenceNode {
			errs.Add(pos(v), "%s: want a list of strings", k)
			return
		}
		out := []string{}
		for _, item := range v.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
				errs.Add(pos(item), "%s: want a string, not %s", k, describe(item))
				continue
			}
			if check != nil {
				if err := check(item.Value); err != nil {
					errs.Add(pos(item), "%s", strings.TrimPrefix(err.Error(), "--secret "))
					continue
				}
			}
			out = append(out, item.Value)
		}
		*field(f) = out
	}
}

// describe names a value in an error: its text, or its kind.
func describe(v *yaml.Node) string {
	switch {
	case v.Kind == yaml.MappingNode:
		return "a map"
	case v.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(v):
		return "nothing"
	}
	return `"` + v.Value + `"`
}

// suggest is ": did you mean X?" for a key an edit from a known one (two
// for a long key), else the known keys.
func suggest(k string, known []string) string {
	best, dist := "", 2
	if len(k) >= 6 {
		dist = 3
	}
	for _, c := range known {
		if d := edits(k, c); d < dist {
			best, dist = c, d
		}
	}
	if best == "" {
		return ": use " + strings.Join(known, ", ")
	}
	return ": did you mean " + best + "?"
}

// edits is the Levenshtein distance of a and b.
func edits(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

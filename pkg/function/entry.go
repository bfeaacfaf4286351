package function

import (
	"fmt"
	"regexp"
	"sync"
)

// Entry points: the names a handler is found by, in the order faas looks
// for them, after what AWS Lambda (handler, lambda_handler), OpenFaaS
// (handle) and OpenWhisk (main) users already write.
var EntryNames = []string{"handler", "lambda_handler", "handle", "main"}

// DefaultEntry is the entry point of versions deployed before entry points
// could be named.
const DefaultEntry = "handler"

// NodeDefaultExport names a Node module's default export as its entry.
const NodeDefaultExport = "default"

// The expressions compile on first use: most faas processes use none, and
// compiling them all at start-up cost more than a warm call.
var (
	identRE = lazyRE(`^[A-Za-z_$][A-Za-z0-9_$]{0,63}$`)
	// A Python script that runs itself is a script, whatever it defines.
	pyMainGuardRE = lazyRE(`(?m)^if\s+__name__\s*==\s*['"]__main__['"]\s*:`)
	// A top-level function that takes (event, context): a handler by
	// another name.
	pyTwoArgRE   = lazyRE(`(?m)^(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\w+\s*,\s*\w+\s*\)`)
	nodeExportRE = lazyRE(`(?m)^export\s+default\b`)
	// What a script writes its result with.
	printsRE = map[Runtime]func() *regexp.Regexp{
		Python: lazyRE(`\bprint\s*\(|\bsys\.stdout\b|\bos\.write\s*\(\s*1\b`),
		Node:   lazyRE(`\bconsole\.(log|info)\b|\bprocess\.stdout\b`),
	}
)

// lazyRE is a regular expression compiled on first use.
func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// pyDef finds a top-level def of name that takes at least one argument
// (a main() of no arguments is a script's, not an entry point).
func pyDef(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(?:async\s+)?def\s+` + regexp.QuoteMeta(name) + `\s*\(\s*[A-Za-z_*]`)
}

func nodeExport(name string) *regexp.Regexp {
	n := regexp.QuoteMeta(name)
	return regexp.MustCompile(`(?m)(\bexports\.` + n + `\s*=|\bmodule\.exports\s*=\s*\{[^}]*\b` + n + `\b|^export\s+(?:async\s+)?function\s*\*?\s*` + n + `\b|^export\s+(?:const|let|var)\s+` + n + `\b|^export\s*\{[^}]*\b` + n + `\b)`)
}

// Entry is what faas found in a file: the entry point, or a warning.
type Entry struct {
	// Name is the handler's name; "" for a script.
	Name string
	// Named says --handler named it (it was not found by convention).
	Named bool
	// Warning, for a script that looks like it meant to be a handler,
	// names the flag to use.
	Warning string
}

// ValidateEntry checks a --handler name.
func ValidateEntry(name string) error {
	if !identRE().MatchString(name) {
		return fmt.Errorf("--handler %q is not a function name", name)
	}
	return nil
}

// FindEntry looks for an entry point in code of runtime r: a name given
// (--handler) must be defined; otherwise the first of EntryNames that is
// (for Node also a default export).
func FindEntry(r Runtime, code []byte, given string) (Entry, error) {
	defined := func(name string) bool {
		switch r {
		case Python:
			return pyDef(name).Match(code)
		case Node:
			if name == NodeDefaultExport {
				return nodeExportRE().Match(code)
			}
			return nodeExport(name).Match(code)
		}
		return false
	}
	if given != "" {
		if err := ValidateEntry(given); err != nil && !(r == Node && given == NodeDefaultExport) {
			return Entry{}, err
		}
		if r != Python && r != Node {
			return Entry{}, fmt.Errorf("--handler needs the python or node runtime, not %s", r)
		}
		if !defined(given) {
			return Entry{}, fmt.Errorf("--handler %s: the file defines no top-level %s", given, given)
		}
		return Entry{Name: given, Named: true}, nil
	}
	if r != Python && r != Node {
		return Entry{}, nil
	}
	if r == Python && pyMainGuardRE().Match(code) {
		for _, name := range EntryNames {
			if regexp.MustCompile(`(?m)^(?:async\s+)?def\s+` + name + `\s*\(`).Match(code) {
				return Entry{Warning: fmt.Sprintf("the file defines %s() but also runs itself (if __name__ == \"__main__\"): it runs as a script; deploy with --handler %s to call %s per invocation, or --mode script to say so", name, name, name)}, nil
			}
		}
		return Entry{}, nil
	}
	for _, name := range EntryNames {
		if defined(name) {
			return Entry{Name: name}, nil
		}
	}
	if r == Node && nodeExportRE().Match(code) {
		return Entry{Name: NodeDefaultExport}, nil
	}
	if r == Python {
		if m := pyTwoArgRE().FindSubmatch(code); m != nil {
			n := string(m[1])
			return Entry{Warning: fmt.Sprintf("the file defines %s(…, …) but no handler, lambda_handler, handle or main: it runs as a script; deploy with --handler %s to call it per invocation, or --mode script to say so", n, n)}, nil
		}
	}
	if !printsRE[r]().Match(code) {
		return Entry{Warning: "the file has no entry point (handler, lambda_handler, handle, main) and prints nothing: as a script its result would be empty; define one, name yours with --handler NAME, or deploy with --mode script to say so"}, nil
	}
	return Entry{}, nil
}

package bundle

import (
	"fmt"
	"regexp"
	"strings"
)

// IgnoreFile is the file at the root of a directory whose rules keep paths
// out of its bundle. It is itself left out: it says how to deploy, it is
// not part of the function, and editing it alone changes no version.
const IgnoreFile = ".faasignore"

// DefaultIgnore is left out of every directory's bundle, whatever
// .faasignore says: version control, caches and environments a deploy
// builds itself (dependencies come from requirements.txt or package.json).
var DefaultIgnore = []string{".git", "__pycache__", "node_modules", ".venv", "*.pyc", ".DS_Store", "/" + IgnoreFile}

// Ignore holds gitignore rules: the last rule that matches a path decides,
// "!" re-includes, a trailing "/" matches directories only, a "/" at the
// start or in the middle anchors a rule at the root, "*" and "?" stay in one
// component, "**" spans components, "[a-z]" is a class and "\" escapes.
// As in git, a path under an ignored directory cannot be re-included: the
// walk never enters that directory.
type Ignore struct {
	rules []rule
}

type rule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
}

// ParseIgnore reads gitignore rules, one a line. A line it cannot read (an
// unclosed "[") is an error naming its line number.
func ParseIgnore(text string) (*Ignore, error) {
	ig := &Ignore{}
	for i, line := range strings.Split(text, "\n") {
		r, ok, err := parseRule(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if ok {
			ig.rules = append(ig.rules, r)
		}
	}
	return ig, nil
}

// Match reports whether the slash-separated path p (relative to the root;
// dir says it is a directory) is ignored.
func (ig *Ignore) Match(p string, dir bool) bool {
	if ig == nil {
		return false
	}
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !dir {
			continue
		}
		if r.negate == ignored && r.re.MatchString(p) {
			ignored = !r.negate
		}
	}
	return ignored
}

func parseRule(line string) (rule, bool, error) {
	line = trimTrailingSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return rule{}, false, nil
	}
	var r rule
	if strings.HasPrefix(line, "!") {
		r.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") && !strings.HasSuffix(line, "\\/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return rule{}, false, nil
	}
	// A slash anywhere but at the end anchors the rule at the root;
	// otherwise it matches a name at any depth.
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	if err := translate(&b, line); err != nil {
		return rule{}, false, err
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return rule{}, false, fmt.Errorf("pattern %q: %w", line, err)
	}
	r.re = re
	return r, true, nil
}

// trimTrailingSpace drops trailing spaces unless the last is escaped.
func trimTrailingSpace(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\\ ") {
		s = s[:len(s)-1]
	}
	return s
}

// translate writes the regexp of one glob pattern (without its anchor).
func translate(b *strings.Builder, p string) error {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && strings.HasPrefix(p[i:], "**") && (i == 0 || p[i-1] == '/'):
			j := i
			for j < len(p) && p[j] == '*' {
				j++
			}
			switch {
			case j == len(p): // "x/**" or "**": everything below
				b.WriteString(".*")
				i = j - 1
			case p[j] == '/': // "**/": zero or more directories
				b.WriteString("(?:.*/)?")
				i = j
			default: // "**x" is "*x"
				b.WriteString("[^/]*")
				i = j - 1
			}
		case c == '*':
			b.WriteString("[^/]*")
			for i+1 < len(p) && p[i+1] == '*' {
				i++
			}
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			n, err := class(b, p[i:])
			if err != nil {
				return err
			}
			i += n - 1
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	return nil
}

// class writes a bracket expression starting at p[0] == '[' and returns
// how many bytes of p it used.
func class(b *strings.Builder, p string) (int, error) {
	i := 1
	var out strings.Builder
	out.WriteString("[")
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		out.WriteString("^/")
		i++
	}
	first := true
	for ; i < len(p); i++ {
		c := p[i]
		if c == ']' && !first {
			out.WriteString("]")
			b.WriteString(out.String())
			return i + 1, nil
		}
		first = false
		switch {
		case c == '\\' && i+1 < len(p):
			i++
			out.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case c == '[' && strings.HasPrefix(p[i:], "[:"):
			end := strings.Index(p[i:], ":]")
			if end < 0 {
				return 0, fmt.Errorf("pattern %q: unclosed [: in a class", p)
			}
			out.WriteString(p[i : i+end+2])
			i += end + 1
		case c == '-':
			out.WriteString("-")
		case c == '/':
			// A class never matches the separator.
		default:
			out.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	return 0, fmt.Errorf("pattern %q: unclosed [", p)
}

package bundle

import (
	"strings"
	"testing"
)

func TestIgnoreMatch(t *testing.T) {
	for _, c := range []struct {
		rules string
		path  string
		dir   bool
		want  bool
	}{
		{"*.log", "debug.log", false, true},
		{"*.log", "a/b/debug.log", false, true},
		{"*.log", "debug.logs", false, false},
		{"*.log\n!keep.log", "keep.log", false, false},
		{"*.log\n!keep.log", "a/keep.log", false, false},
		{"*.log\n!keep.log", "other.log", false, true},
		{"!keep.log\n*.log", "keep.log", false, true}, // the last match decides
		{"# a comment\n*.tmp", "# a comment", false, false},
		{"\\#hash", "#hash", false, true},
		{"\\!bang", "!bang", false, true},
		{"build/", "build", true, true},
		{"build/", "build", false, false}, // a file named build stays
		{"build/", "src/build", true, true},
		{"/secret.txt", "secret.txt", false, true},
		{"/secret.txt", "sub/secret.txt", false, false},
		{"docs/*.md", "docs/a.md", false, true},
		{"docs/*.md", "x/docs/a.md", false, false}, // a middle slash anchors
		{"docs/*.md", "docs/sub/a.md", false, false},
		{"docs/**/*.md", "docs/a.md", false, true},
		{"docs/**/*.md", "docs/a/b/c.md", false, true},
		{"**/cache", "cache", true, true},
		{"**/cache", "a/b/cache", false, true},
		{"logs/**", "logs/a/b", false, true},
		{"logs/**", "logs", true, false},
		{"a**b", "axxb", false, true},
		{"a**b", "ax/xb", false, false},
		{"?.py", "a.py", false, true},
		{"?.py", "ab.py", false, false},
		{"[abc].py", "b.py", false, true},
		{"[!abc].py", "b.py", false, false},
		{"[!abc].py", "d.py", false, true},
		{"[a-c]x", "bx", false, true},
		{"[]]x", "]x", false, true},
		{"trailing   ", "trailing", false, true},
		{"trailing\\ ", "trailing ", false, true},
		{"", "anything", false, false},
		{"a.b", "axb", false, false}, // a dot is a dot
		{"crlf\r\n", "crlf", false, true},
		{"/", "x", false, false},
	} {
		ig, err := ParseIgnore(c.rules)
		if err != nil {
			t.Errorf("ParseIgnore(%q): %v", c.rules, err)
			continue
		}
		if got := ig.Match(c.path, c.dir); got != c.want {
			t.Errorf("rules %q: Match(%q, dir=%v) = %v, want %v", c.rules, c.path, c.dir, got, c.want)
		}
	}
}

func TestIgnoreErrors(t *testing.T) {
	for _, rules := range []string{"ok\n[abc", "[[:alpha"} {
		if _, err := ParseIgnore(rules); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("ParseIgnore(%q) = %v, want an error naming the line", rules, err)
		}
	}
}

func TestDefaultIgnore(t *testing.T) {
	ig, err := ParseIgnore(strings.Join(DefaultIgnore, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		".git": true, "sub/.git": true, "__pycache__": true, "a/node_modules": true, ".venv": true,
		"x.pyc": true, "a/b/.DS_Store": true, ".faasignore": true, "sub/.faasignore": false,
		"main.py": false, "gitignore": false, ".gitignore": false,
	} {
		if got := ig.Match(p, false); got != want {
			t.Errorf("default Match(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzParseIgnore(f *testing.F) {
	for _, s := range []string{"*.log\n!keep.log", "a/**/b", "[a-z]", "\\", "[", "**", "/x/"} {
		f.Add(s, "a/b.log")
	}
	f.Fuzz(func(t *testing.T, rules, p string) {
		ig, err := ParseIgnore(rules)
		if err != nil {
			return
		}
		ig.Match(p, false)
		ig.Match(p, true)
	})
}

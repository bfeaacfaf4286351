package bundle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/fault"
)

func TestParseHandler(t *testing.T) {
	for _, c := range []struct{ in, file, fn string }{
		{"", "", ""},
		{"handler", "", "handler"},
		{"default", "", "default"},
		{"handler.py", "handler.py", ""},
		{"src/app", "src/app", ""},
		{"main.py:handler", "main.py", "handler"},
		{"src/index.mjs:default", "src/index.mjs", "default"},
		{"main.py:", "main.py", ""},
		{":handler", "", "handler"},
		{"a:b.py:go", "a:b.py", "go"},
	} {
		if file, fn := ParseHandler(c.in); file != c.file || fn != c.fn {
			t.Errorf("ParseHandler(%q) = %q, %q; want %q, %q", c.in, file, fn, c.file, c.fn)
		}
	}
}

func TestFindHandlerFile(t *testing.T) {
	tree := func(names ...string) *Bundle {
		es := make([]ent, len(names))
		for i, n := range names {
			es[i] = ent{name: n, body: "x"}
		}
		b, err := Read(bytes.NewReader(makeZip(t, es)), "", Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	single, err := Read(strings.NewReader("echo hi\n"), "fn.sh", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		b      *Bundle
		want   string
		file   string
		errHas string
	}{
		{"main.py first", tree("handler.py", "main.py", "index.js"), "", "main.py", ""},
		{"handler.py", tree("handler.py", "index.js", "lib/main.py"), "", "handler.py", ""},
		{"index.js", tree("index.js", "util.js"), "", "index.js", ""},
		{"index.mjs", tree("index.mjs", "x.txt"), "", "index.mjs", ""},
		{"main.sh", tree("main.sh", "data.csv"), "", "main.sh", ""},
		{"a one-file bundle", single, "", "fn.sh", ""},
		{"named", tree("main.py", "src/app.py"), "src/app.py", "src/app.py", ""},
		{"named with ./", tree("main.py", "src/app.py"), "./src/app.py", "src/app.py", ""},
		{"named, missing", tree("main.py"), "app.py", "", `--handler "app.py": no such file`},
		{"none at the root", tree("src/main.py", "README.md"), "", "", "looked for main.py, handler.py, index.js"},
	} {
		file, err := FindHandlerFile(c.b, c.want)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) || fault.KindOf(err) != fault.Usage || fault.HintOf(err) == "" {
				t.Errorf("%s: FindHandlerFile = %q, %v; want a usage error with a hint and %q", c.name, file, err, c.errHas)
			}
			continue
		}
		if err != nil || file != c.file {
			t.Errorf("%s: FindHandlerFile = %q, %v; want %q", c.name, file, err, c.file)
		}
	}
}

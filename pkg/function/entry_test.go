package function

import (
	"strings"
	"testing"
)

func TestFindEntry(t *testing.T) {
	for _, c := range []struct {
		rt          Runtime
		code, given string
		want, warn  string
		err         bool
	}{
		{Python, "def handler(event, context):\n    pass\n", "", "handler", "", false},
		{Python, "def main(args):\n    pass\ndef handler(e, c):\n    pass\n", "", "handler", "", false},
		{Python, "def lambda_handler(event, context):\n    pass\n", "", "lambda_handler", "", false},
		{Python, "async def handle(req):\n    pass\n", "", "handle", "", false},
		{Python, "def main():\n    print(1)\nif __name__ == '__main__':\n    main()\n", "", "", "runs itself", false},
		{Python, "def go(event, context):\n    return 1\n", "", "", "--handler go", false},
		{Python, "x = 1\n", "", "", "prints nothing", false},
		{Python, "print('hi')\n", "", "", "", false},
		{Python, "def go(event, context):\n    return 1\n", "go", "go", "", false},
		{Python, "def go(event, context):\n    return 1\n", "gone", "", "", true},
		{Python, "def go(e, c): pass\n", "not a name", "", "", true},
		{Node, "exports.main = (p) => p;\n", "", "main", "", false},
		{Node, "module.exports = { handler };\n", "", "handler", "", false},
		{Node, "export async function handler(e) {}\n", "", "handler", "", false},
		{Node, "export default (e) => e;\n", "", NodeDefaultExport, "", false},
		{Node, "console.log(1);\n", "", "", "", false},
		{Bash, "echo hi\n", "", "", "", false},
		{Bash, "echo hi\n", "handler", "", "", true},
	} {
		e, err := FindEntry(c.rt, []byte(c.code), c.given)
		if (err != nil) != c.err || e.Name != c.want || (c.warn == "") != (e.Warning == "") || !strings.Contains(e.Warning, c.warn) {
			t.Errorf("FindEntry(%s, %q, %q) = %+v, %v; want %q warning %q err %v", c.rt, c.code, c.given, e, err, c.want, c.warn, c.err)
		}
	}
}

func TestRuntimeFromShebang(t *testing.T) {
	for code, want := range map[string]Runtime{
		"#!/usr/bin/env python3\nprint(1)\n": Python, "#!/usr/bin/python3\n": Python, "#!/usr/bin/env node\n": Node,
		"#!/bin/bash\n": Bash, "#!/bin/sh\n": Exec, "#!/usr/bin/env -S python3\n": Python,
		"#!/usr/bin/python3 -u\n": Exec, "#!/usr/bin/perl\n": Exec, "\x7fELF": Exec, "print(1)\n": Exec,
	} {
		if got := RuntimeFromShebang([]byte(code)); got != want {
			t.Errorf("RuntimeFromShebang(%q) = %s, want %s", code, got, want)
		}
	}
}

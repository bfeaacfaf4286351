package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
)

// pyCheck compiles (never runs) the code on stdin and reports a syntax
// error as FILE:LINE:COLUMN: MESSAGE, FILE the name it is given.
const pyCheck = `import sys
try:
    compile(sys.stdin.buffer.read(), sys.argv[1], "exec", dont_inherit=True)
except SyntaxError as e:
    print("%s:%s:%s: %s" % (sys.argv[1], e.lineno, e.offset, e.msg))
    sys.exit(1)
`

// checkSyntax parses the file the way its runtime will, before anything
// is stored: a syntax error is bad input (exit 2) that names the user's
// own file, line and column, not a failure at the first invoke. It runs on
// the deploying machine, on the user's own file; where the interpreter is
// missing there, the check is skipped (the instance will say).
func checkSyntax(ctx context.Context, path string, rt function.Runtime, code []byte) error {
	if rt != function.Python && rt != function.Node {
		return nil
	}
	_, prog := interp.Program(rt)
	bin, err := exec.LookPath(prog)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	display := path
	if rt == function.Python {
		cmd = exec.CommandContext(ctx, bin, "-c", pyCheck, display)
		cmd.Stdin = bytes.NewReader(code)
	} else {
		// Node decides CommonJS or ES module by the extension: check a
		// copy named as the agent will name it, and say the user's path.
		dir, err := os.MkdirTemp("", "faas-check-")
		if err != nil {
			return nil
		}
		defer os.RemoveAll(dir)
		ext := ".cjs"
		if function.IsESModule(code) {
			ext = ".mjs"
		}
		tmp := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+ext)
		if err := os.WriteFile(tmp, code, 0o600); err != nil {
			return nil
		}
		cmd = exec.CommandContext(ctx, bin, "--check", tmp)
		display = tmp
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil || ctx.Err() != nil {
		return nil
	} else if _, ok := err.(*exec.ExitError); !ok {
		return nil
	}
	msg := strings.TrimSpace(out.String())
	if rt == function.Node {
		msg = nodeError(strings.ReplaceAll(msg, display, path))
	}
	return fault.WithHint(fault.Usagef("%s", msg), "fix the file and deploy again; nothing was deployed")
}

// nodeError turns `node --check`'s report (FILE:LINE, the line, a caret,
// a blank line, "SyntaxError: …") into FILE:LINE:COLUMN: MESSAGE.
func nodeError(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return s
	}
	where, msg, col := lines[0], "", 0
	for i, l := range lines {
		if i == 2 && strings.Contains(l, "^") {
			col = strings.Index(l, "^") + 1
		}
		if strings.Contains(l, "Error:") {
			msg = strings.TrimSpace(l)
		}
	}
	if msg == "" {
		return s
	}
	if col > 0 {
		return where + ":" + strconv.Itoa(col) + ": " + msg
	}
	return where + ": " + msg
}

package iostreams

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestColorWanted(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		env  map[string]string
		want bool
	}{
		{name: "default tty", tty: true, want: true},
		{name: "default piped", tty: false, want: false},
		{name: "NO_COLOR=1 on tty", tty: true, env: map[string]string{"NO_COLOR": "1"}, want: false},
		{name: "NO_COLOR=0 still disables", tty: true, env: map[string]string{"NO_COLOR": "0"}, want: false},
		{name: "NO_COLOR=false still disables", tty: true, env: map[string]string{"NO_COLOR": "false"}, want: false},
		{name: "NO_COLOR empty is unset", tty: true, env: map[string]string{"NO_COLOR": ""}, want: true},
		{name: "NO_COLOR beats CLICOLOR_FORCE", tty: true, env: map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, want: false},
		{name: "NO_COLOR beats CLICOLOR_FORCE piped", tty: false, env: map[string]string{"NO_COLOR": "yes", "CLICOLOR_FORCE": "1"}, want: false},
		{name: "CLICOLOR_FORCE=1 piped", tty: false, env: map[string]string{"CLICOLOR_FORCE": "1"}, want: true},
		{name: "CLICOLOR_FORCE=yes piped", tty: false, env: map[string]string{"CLICOLOR_FORCE": "yes"}, want: true},
		{name: "CLICOLOR_FORCE=0 piped", tty: false, env: map[string]string{"CLICOLOR_FORCE": "0"}, want: false},
		{name: "CLICOLOR_FORCE=0 on tty", tty: true, env: map[string]string{"CLICOLOR_FORCE": "0"}, want: true},
		{name: "CLICOLOR_FORCE beats CLICOLOR=0", tty: false, env: map[string]string{"CLICOLOR_FORCE": "1", "CLICOLOR": "0"}, want: true},
		{name: "CLICOLOR=0 on tty", tty: true, env: map[string]string{"CLICOLOR": "0"}, want: false},
		{name: "CLICOLOR=0 piped", tty: false, env: map[string]string{"CLICOLOR": "0"}, want: false},
		{name: "CLICOLOR=1 piped follows tty", tty: false, env: map[string]string{"CLICOLOR": "1"}, want: false},
		{name: "CLICOLOR=1 on tty", tty: true, env: map[string]string{"CLICOLOR": "1"}, want: true},
		{name: "CLICOLOR=0 with CLICOLOR_FORCE=0 on tty", tty: true, env: map[string]string{"CLICOLOR": "0", "CLICOLOR_FORCE": "0"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			if got := colorWanted(tt.tty, getenv); got != tt.want {
				t.Errorf("colorWanted(tty=%v, %v) = %v, want %v", tt.tty, tt.env, got, tt.want)
			}
		})
	}
}

func TestSystemColorFromEnv(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("CLICOLOR", "")
	t.Setenv("CLICOLOR_FORCE", "1")
	if !System().ColorEnabled() {
		t.Error("CLICOLOR_FORCE=1: ColorEnabled() = false, want true")
	}
	t.Setenv("NO_COLOR", "1")
	if System().ColorEnabled() {
		t.Error("NO_COLOR=1 with CLICOLOR_FORCE=1: ColorEnabled() = true, want false")
	}
}

func TestTestStreams(t *testing.T) {
	s, in, out, errOut := Test()
	if s.In != in || s.Out != out || s.ErrOut != errOut {
		t.Fatal("Test() streams are not the returned buffers")
	}
	if s.IsStdinTTY() || s.IsStdoutTTY() || s.IsStderrTTY() || s.ColorEnabled() {
		t.Error("Test() streams claim a TTY or colour")
	}
	s.SetTTY(true, false, true)
	if !s.IsStdinTTY() || s.IsStdoutTTY() || !s.IsStderrTTY() {
		t.Errorf("SetTTY(true,false,true) = %v %v %v", s.IsStdinTTY(), s.IsStdoutTTY(), s.IsStderrTTY())
	}
}

func TestTablePiped(t *testing.T) {
	s, _, out, errOut := Test()
	tbl := s.NewTable("NAME", "VERSION", "UPDATED")
	tbl.AddRow("hello", "1", "2026-11-03T10:00:00Z")
	tbl.AddRow("resize-image", "12", "2026-11-02T09:00:00Z")
	tbl.AddRow("with\ttab", "a\nb", "c\r\nd")
	tbl.AddRow("", "", "")
	if err := tbl.Render(); err != nil {
		t.Fatal(err)
	}
	want := "hello\t1\t2026-11-03T10:00:00Z\n" +
		"resize-image\t12\t2026-11-02T09:00:00Z\n" +
		"with tab\ta b\tc  d\n" +
		"\t\t\n"
	if out.String() != want {
		t.Errorf("piped table =\n%q\nwant\n%q", out.String(), want)
	}
	if strings.Contains(out.String(), "NAME") {
		t.Error("piped table has a header")
	}
	if errOut.Len() != 0 {
		t.Errorf("table wrote to stderr: %q", errOut.String())
	}
}

func TestTablePipedEmpty(t *testing.T) {
	s, _, out, _ := Test()
	if err := s.NewTable("NAME").Render(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("empty piped table wrote %q", out.String())
	}
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTableTTY(t *testing.T) {
	for _, color := range []bool{false, true} {
		t.Run(fmt.Sprintf("color=%v", color), func(t *testing.T) {
			s, _, out, _ := Test()
			s.SetTTY(false, true, false)
			s.SetColor(color)
			tbl := s.NewTable("NAME", "VERSION", "STATUS")
			rows := [][]string{
				{"hello", "1", "ready"},
				{"resize-image", "12", "stopped"},
				{"x", "100", "ok"},
			}
			for _, r := range rows {
				tbl.AddRow(r...)
			}
			if err := tbl.Render(); err != nil {
				t.Fatal(err)
			}
			raw := out.String()
			t.Logf("TTY table:\n%s", raw)
			if strings.Contains(raw, "\t") {
				t.Errorf("TTY table contains a tab:\n%q", raw)
			}
			hasEsc := strings.Contains(raw, "\x1b")
			if hasEsc != color {
				t.Errorf("TTY table with colour %v: contains escape codes = %v\n%q", color, hasEsc, raw)
			}
			// Alignment is judged on what the terminal shows.
			got := ansiRE.ReplaceAllString(raw, "")
			if strings.Contains(got, "\x1b") {
				t.Fatalf("unexpected escape sequence left in %q", got)
			}
			var lines []string
			for _, l := range strings.Split(got, "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1+len(rows) {
				t.Fatalf("TTY table has %d non-empty lines, want header + %d rows:\n%s", len(lines), len(rows), got)
			}
			// The header is the first line, words as given (not reformatted).
			header := lines[0]
			for _, h := range []string{"NAME", "VERSION", "STATUS"} {
				if !strings.Contains(header, h) {
					t.Errorf("header %q lacks %q", header, h)
				}
			}
			// Every cell appears on its row, at the offset of its header
			// word: the table is aligned.
			cols := []int{strings.Index(header, "NAME"), strings.Index(header, "VERSION"), strings.Index(header, "STATUS")}
			if !(cols[0] == 0 && cols[0] < cols[1] && cols[1] < cols[2]) {
				t.Fatalf("header columns out of order: %q", header)
			}
			for i, r := range rows {
				line := lines[i+1]
				for c, cell := range r {
					if len(line) < cols[c]+len(cell) || line[cols[c]:cols[c]+len(cell)] != cell {
						t.Errorf("row %d %q: cell %q not at column offset %d", i, line, cell, cols[c])
					}
				}
			}
		})
	}
}

func TestStylesPlainWhenColorOff(t *testing.T) {
	s, _, _, _ := Test()
	st := s.Styles()
	for name, style := range map[string]interface{ Render(...string) string }{
		"Bold": st.Bold, "Muted": st.Muted, "Success": st.Success,
		"Warning": st.Warning, "Error": st.Error, "Header": st.Header,
	} {
		if got := style.Render("text"); got != "text" {
			t.Errorf("%s.Render with colour off = %q, want %q", name, got, "text")
		}
	}
}

func TestStylesColorOnAndToggle(t *testing.T) {
	s, _, _, _ := Test()
	s.SetColor(true)
	if !s.ColorEnabled() {
		t.Fatal("SetColor(true) did not enable colour")
	}
	for name, got := range map[string]string{
		"Bold":    s.Styles().Bold.Render("x"),
		"Success": s.Styles().Success.Render("x"),
		"Error":   s.Styles().Error.Render("x"),
	} {
		if !strings.Contains(got, "\x1b[") || !strings.Contains(got, "x") {
			t.Errorf("%s.Render with colour on = %q, want an ANSI escape around x", name, got)
		}
	}
	// Styles are rebuilt when colour is turned off again.
	s.SetColor(false)
	if got := s.Styles().Bold.Render("x"); got != "x" {
		t.Errorf("after SetColor(false), Bold.Render = %q, want %q", got, "x")
	}
}

func TestSuccessfAndInfofNoEscapes(t *testing.T) {
	s, _, out, errOut := Test()
	s.Successf("deployed %s v%d", "hello", 2)
	s.Infof("note: %d", 7)
	want := "✓ deployed hello v2\nnote: 7\n"
	if errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut.String(), want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing (messages go to stderr)", out.String())
	}
}

func TestProgressNotTTYIsNoop(t *testing.T) {
	for _, tty := range [][3]bool{{false, false, false}, {false, true, false}, {false, false, true}} {
		s, _, out, errOut := Test()
		s.SetTTY(tty[0], tty[1], tty[2])
		stop := s.Progress("deploying")
		stop()
		stop() // safe to call twice
		if out.Len() != 0 || errOut.Len() != 0 {
			t.Errorf("Progress with TTYs %v wrote stdout %q stderr %q", tty, out.String(), errOut.String())
		}
	}
}

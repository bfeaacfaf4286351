package fakemultipass

import (
	"bufio"
	"regexp"
	"strings"
)

// unitFile is the [Service] part of a systemd unit the shim understands.
type unitFile struct {
	description string
	execStart   string
	envFiles    []string
	env         []string
	workDir     string
}

func parseUnitFile(text string) unitFile {
	var u unitFile
	section := ""
	var lines []string
	var cont strings.Builder
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasSuffix(l, "\\") {
			cont.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cont.WriteString(l)
		lines = append(lines, cont.String())
		cont.Reset()
	}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case section == "Unit" && k == "Description":
			u.description = v
		case section != "Service":
		case k == "ExecStart":
			u.execStart = v
		case k == "EnvironmentFile":
			u.envFiles = append(u.envFiles, v)
		case k == "Environment":
			u.env = append(u.env, v)
		case k == "WorkingDirectory":
			u.workDir = v
		}
	}
	return u
}

// splitWords splits a command line the way systemd does, with quotes and
// backslash escapes.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

var (
	wholeVarRe  = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
	inlineVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// expandWords applies systemd's substitution: "$VAR" as a whole word
// becomes the value's words, "${VAR}" is replaced in place.
func expandWords(words []string, env map[string]string) []string {
	var out []string
	for _, w := range words {
		if m := wholeVarRe.FindStringSubmatch(w); m != nil {
			out = append(out, strings.Fields(env[m[1]])...)
			continue
		}
		out = append(out, inlineVarRe.ReplaceAllStringFunc(w, func(v string) string {
			return env[v[2:len(v)-1]]
		}))
	}
	return out
}

func parseEnvFile(data string, env map[string]string, order *[]string) {
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		setEnv(env, order, k, v)
	}
}

func setEnv(env map[string]string, order *[]string, k, v string) {
	if _, ok := env[k]; !ok {
		*order = append(*order, k)
	}
	env[k] = v
}

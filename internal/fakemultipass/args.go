package fakemultipass

import (
	"fmt"
	"strings"
)

// opt is one option of a command, as Qt's QCommandLineParser knows it.
type opt struct {
	long  string
	short string
	value bool
}

// parsed is a command line after option parsing.
type parsed struct {
	pos  []string
	vals map[string][]string
	// dash is the number of positionals seen before "--", or -1.
	dash int
	help bool
}

func (p *parsed) has(name string) bool { _, ok := p.vals[name]; return ok }

func (p *parsed) get(name string) string {
	v := p.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func isVerbosity(s string) bool {
	if s == "--verbose" {
		return true
	}
	return len(s) > 1 && s[0] == '-' && strings.Trim(s[1:], "v") == ""
}

// parseArgs parses options anywhere before "--", like Qt does. Every
// command also takes -v... and -h/--help.
func parseArgs(in []string, opts []opt) (*parsed, error) {
	p := &parsed{vals: map[string][]string{}, dash: -1}
	find := func(long, short string) *opt {
		for i := range opts {
			if (long != "" && opts[i].long == long) || (short != "" && opts[i].short == short) {
				return &opts[i]
			}
		}
		return nil
	}
	for i := 0; i < len(in); i++ {
		s := in[i]
		switch {
		case s == "--":
			p.dash = len(p.pos)
			p.pos = append(p.pos, in[i+1:]...)
			return p, nil
		case s == "-h" || s == "--help":
			p.help = true
		case isVerbosity(s):
		case strings.HasPrefix(s, "--"):
			name, val, hasVal := strings.Cut(s[2:], "=")
			o := find(name, "")
			if o == nil {
				return p, fmt.Errorf("Unknown option '%s'.", name)
			}
			if !o.value {
				if hasVal {
					return p, fmt.Errorf("Unexpected value after '--%s'.", name)
				}
				p.vals[o.long] = append(p.vals[o.long], "")
				continue
			}
			if !hasVal {
				if i+1 >= len(in) {
					return p, fmt.Errorf("Missing value after '--%s'.", name)
				}
				i++
				val = in[i]
			}
			p.vals[o.long] = append(p.vals[o.long], val)
		case len(s) > 1 && s[0] == '-':
			for j := 1; j < len(s); j++ {
				o := find("", s[j:j+1])
				if o == nil {
					return p, fmt.Errorf("Unknown option '%s'.", s[j:j+1])
				}
				if !o.value {
					p.vals[o.long] = append(p.vals[o.long], "")
					continue
				}
				val := strings.TrimPrefix(s[j+1:], "=")
				if j+1 >= len(s) {
					if i+1 >= len(in) {
						return p, fmt.Errorf("Missing value after '-%s'.", s[j:j+1])
					}
					i++
					val = in[i]
				}
				p.vals[o.long] = append(p.vals[o.long], val)
				break
			}
		default:
			p.pos = append(p.pos, s)
		}
	}
	return p, nil
}

// parseOrUsage parses and prints Qt's error on failure. It returns false
// when the command should end with code.
func (c *cli) parseOrUsage(cmd string, in []string, opts []opt) (*parsed, int, bool) {
	p, err := parseArgs(in, opts)
	if err != nil {
		return p, c.usage(err.Error()), false
	}
	if p.help {
		fmt.Fprintf(c.stdout, "Usage: multipass %s [options]\n(stand-in; see internal/fakemultipass/README.md)\n", cmd)
		return p, 0, false
	}
	return p, 0, true
}

var formatOpt = opt{long: "format", value: true}

func validFormat(f string) bool {
	switch f {
	case "", "table", "json", "csv", "yaml":
		return true
	}
	return false
}

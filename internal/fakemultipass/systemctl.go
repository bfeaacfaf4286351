package fakemultipass

import (
	"fmt"
	"os"
	"strings"
)

// systemctl is the guest's systemctl: units are started and stopped by the
// fake, enabled units start when the instance boots.
func (g *guest) systemctl(args []string) int {
	var verb string
	var units []string
	now, quiet := false, false
	for _, a := range args {
		switch {
		case a == "--now":
			now = true
		case a == "-q" || a == "--quiet":
			quiet = true
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			units = append(units, unitName(a))
		}
	}
	switch verb {
	case "":
		fmt.Fprintln(g.stderr, "systemctl (stand-in): no command verb given")
		return 1
	case "daemon-reload", "enable", "disable", "start", "stop", "restart", "is-active", "is-enabled", "is-failed", "status":
	default:
		fmt.Fprintf(g.stderr, "Unknown command verb '%s'.\n", verb)
		return 1
	}
	if verb == "daemon-reload" && len(units) > 0 {
		fmt.Fprintln(g.stderr, "Too many arguments.")
		return 1
	}
	if verb != "daemon-reload" && len(units) == 0 {
		fmt.Fprintln(g.stderr, "Too few arguments.")
		return 1
	}
	privileged := verb != "is-active" && verb != "is-enabled" && verb != "is-failed" && verb != "status"
	if privileged && !g.sudo {
		if verb == "daemon-reload" {
			fmt.Fprintln(g.stderr, "Failed to reload daemon: Interactive authentication required.")
		} else {
			fmt.Fprintf(g.stderr, "Failed to %s %s: Interactive authentication required.\nSee system logs and 'systemctl status %s' for details.\n", verb, units[0], units[0])
		}
		return 1
	}
	s, err := g.c.open()
	if err != nil {
		fmt.Fprintln(g.stderr, err)
		return 1
	}
	in := s.find(g.name)
	if in == nil {
		s.close()
		fmt.Fprintf(g.stderr, "systemctl: instance %s is gone\n", g.name)
		return 1
	}
	if in.Units == nil {
		in.Units = map[string]*unit{}
	}
	code := 0
	for _, name := range units {
		u := in.Units[name]
		hasFile := exists(g.c.unitPath(in, name))
		active := u != nil && alive(u.PID, u.Start)
		switch verb {
		case "enable", "disable":
			if !hasFile {
				fmt.Fprintf(g.stderr, "Failed to %s unit: Unit file %s does not exist.\n", verb, name)
				code = 1
				continue
			}
			if u == nil {
				u = &unit{}
				in.Units[name] = u
			}
			if verb == "enable" {
				if !u.Enabled {
					fmt.Fprintf(g.stderr, "Created symlink /etc/systemd/system/multi-user.target.wants/%s → /etc/systemd/system/%s.\n", name, name)
				}
				u.Enabled = true
				if now {
					if err := g.c.startUnit(in, name); err != nil {
						code = g.unitFailure(err)
					}
				}
				continue
			}
			if u.Enabled {
				fmt.Fprintf(g.stderr, "Removed \"/etc/systemd/system/multi-user.target.wants/%s\".\n", name)
			}
			u.Enabled = false
			if now {
				killUnit(u)
				u.PID, u.Start, u.Stopped = 0, 0, true
			}
		case "start", "restart":
			if verb == "restart" && u != nil {
				killUnit(u)
				u.PID, u.Start = 0, 0
			}
			if err := g.c.startUnit(in, name); err != nil {
				code = g.unitFailure(err)
			}
		case "stop":
			if u == nil && !hasFile {
				fmt.Fprintf(g.stderr, "Failed to stop %s: Unit %s not loaded.\n", name, name)
				code = 5
				continue
			}
			if u != nil {
				killUnit(u)
				u.PID, u.Start, u.Stopped = 0, 0, true
			}
		case "is-active", "is-failed":
			st := "inactive"
			switch {
			case active:
				st = "active"
			case u != nil && u.PID != 0 && !u.Stopped:
				st = "failed"
			}
			if !quiet {
				fmt.Fprintln(g.stdout, st)
			}
			if verb == "is-active" && st != "active" {
				code = 3
			}
			if verb == "is-failed" && st != "failed" {
				code = 1
			}
		case "is-enabled":
			switch {
			case !hasFile:
				fmt.Fprintf(g.stderr, "Failed to get unit file state for %s: No such file or directory\n", name)
				code = 1
			case u != nil && u.Enabled:
				if !quiet {
					fmt.Fprintln(g.stdout, "enabled")
				}
			default:
				if !quiet {
					fmt.Fprintln(g.stdout, "disabled")
				}
				code = 1
			}
		case "status":
			if !hasFile && u == nil {
				fmt.Fprintf(g.stderr, "Unit %s could not be found.\n", name)
				code = 4
				continue
			}
			uf := unitFile{}
			if data, err := os.ReadFile(g.c.unitPath(in, name)); err == nil {
				uf = parseUnitFile(string(data))
			}
			enabled := "disabled"
			if u != nil && u.Enabled {
				enabled = "enabled"
			}
			fmt.Fprintf(g.stdout, "● %s - %s\n     Loaded: loaded (/etc/systemd/system/%s; %s)\n", name, uf.description, name, enabled)
			if active {
				fmt.Fprintf(g.stdout, "     Active: active (running)\n   Main PID: %d\n", u.PID)
			} else {
				fmt.Fprintf(g.stdout, "     Active: inactive (dead)\n")
				code = 3
			}
		}
	}
	if err := s.commit(); err != nil {
		fmt.Fprintln(g.stderr, err)
		return 1
	}
	return code
}

func (g *guest) unitFailure(err error) int {
	fmt.Fprintln(g.stderr, err)
	if ue, ok := err.(*unitError); ok {
		return ue.code
	}
	return 1
}

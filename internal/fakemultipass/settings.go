package fakemultipass

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var localKeyRe = regexp.MustCompile(`^local\.(.+)\.(cpus|memory|disk|bridged)$`)

// clientKeys are the client and daemon settings the fake knows, with their
// fixed values (client.primary-name is kept in the state).
var clientKeys = map[string]string{
	"client.gui.autostart":    "true",
	"client.primary-name":     "primary",
	"local.bridged-network":   "",
	"local.driver":            "qemu",
	"local.image.mirror":      "",
	"local.privileged-mounts": "true",
}

type settingError struct {
	msg  string
	code int
}

func instanceSettingsError(op, name, reason string) *settingError {
	return &settingError{fmt.Sprintf("%s; instance: %s; reason: %s", op, name, reason), 2}
}

func invalidSetting(key, val, why string) *settingError {
	return &settingError{fmt.Sprintf("Invalid setting '%s=%s': %s", key, val, why), 2}
}

func (c *cli) cmdSet(args []string) int {
	p, code, ok := c.parseOrUsage("set", args, nil)
	if !ok {
		return code
	}
	if len(p.pos) != 1 {
		return c.usage("Need exactly one key-value pair (in <key>=<value> form).")
	}
	key, val, hasVal := strings.Cut(p.pos[0], "=")
	if !hasVal {
		return c.usage("the stand-in multipass cannot prompt for a value: pass <key>=<value>")
	}
	if _, known := clientKeys[key]; !known && !localKeyRe.MatchString(key) {
		if strings.HasPrefix(key, "local.") {
			return c.fail("set", fmt.Sprintf("Unrecognized settings key: '%s'", key))
		}
		return c.usage(fmt.Sprintf("Unrecognized settings key: '%s'", key))
	}
	if code, ok := c.connect("set"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("set", err.Error())
	}
	if key == "client.primary-name" {
		if val != "" && !validName(val) {
			s.close()
			return c.usage(fmt.Sprintf("Invalid setting '%s=%s': Invalid instance name", key, val))
		}
		s.st.PrimaryName = &val
		if err := s.commit(); err != nil {
			return c.fail("set", err.Error())
		}
		return 0
	}
	m := localKeyRe.FindStringSubmatch(key)
	if m == nil {
		s.close()
		return c.fail("set", fmt.Sprintf("Invalid setting '%s=%s': read-only in the stand-in multipass", key, val))
	}
	if e := c.setLocal(s, key, m[1], m[2], val); e != nil {
		s.close()
		if e.code == 1 {
			return c.usage(e.msg)
		}
		return c.fail("set", e.msg)
	}
	if err := s.commit(); err != nil {
		return c.fail("set", err.Error())
	}
	return 0
}

func (c *cli) setLocal(s *store, key, name, prop, val string) *settingError {
	const op = "Cannot update instance settings"
	if in := s.findAny(name); in != nil && in.Preparing {
		return instanceSettingsError(op, name, "instance is being prepared")
	}
	in := s.find(name)
	switch {
	case in == nil:
		return instanceSettingsError(op, name, "No such instance")
	case in.State == stDeleted:
		return instanceSettingsError(op, name, "Instance is deleted")
	case c.state(in) != stStopped:
		return instanceSettingsError(op, name, "Instance must be stopped for modification")
	}
	switch prop {
	case "cpus":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return invalidSetting(key, val, "Need a positive integer (in decimal format) of minimum 1")
		}
		in.CPUs = n
	case "bridged":
		switch strings.ToLower(val) {
		case "false", "0", "off", "no":
		case "true", "1", "on", "yes":
			return invalidSetting(key, val, "the stand-in multipass has no bridged network")
		default:
			return invalidSetting(key, val, "Invalid flag, need \"true\" or \"false\"")
		}
	default:
		n, err := parseSize(val)
		if err != nil {
			return invalidSetting(key, val, err.Error())
		}
		if n == 0 {
			return invalidSetting(key, val, "Need a positive size.")
		}
		if prop == "memory" {
			if n < minMemory {
				return invalidSetting(key, val, "Memory less than 128M minimum not allowed")
			}
			in.Memory = n
			break
		}
		if n < in.Disk {
			return invalidSetting(key, val, "Disk can only be expanded")
		}
		in.Disk = n
	}
	return nil
}

func (c *cli) cmdGet(args []string) int {
	p, code, ok := c.parseOrUsage("get", args, []opt{{long: "raw"}, {long: "keys"}})
	if !ok {
		return code
	}
	if p.has("keys") {
		if len(p.pos) > 0 {
			return c.usage("Need no arguments with --keys option")
		}
	} else if len(p.pos) != 1 {
		return c.usage("Need exactly one setting key.")
	}
	key := ""
	if len(p.pos) == 1 {
		key = p.pos[0]
		if _, known := clientKeys[key]; !known && !localKeyRe.MatchString(key) {
			if strings.HasPrefix(key, "local.") {
				if code, ok := c.connect("get"); !ok {
					return code
				}
				return c.fail("get", fmt.Sprintf("Unrecognized settings key: '%s'", key))
			}
			return c.usage(fmt.Sprintf("Unrecognized settings key: '%s'", key))
		}
	}
	if code, ok := c.connect("get"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("get", err.Error())
	}
	defer s.close()
	if p.has("keys") {
		var keys []string
		for k := range clientKeys {
			keys = append(keys, k)
		}
		for _, in := range s.visible() {
			for _, prop := range []string{"bridged", "cpus", "disk", "memory"} {
				keys = append(keys, "local."+in.Name+"."+prop)
			}
		}
		slices.Sort(keys)
		fmt.Fprintln(c.stdout, strings.Join(keys, "\n"))
		return 0
	}
	var val string
	if m := localKeyRe.FindStringSubmatch(key); m != nil {
		in := s.find(m[1])
		if in == nil {
			return c.fail("get", fmt.Sprintf("Cannot obtain instance settings; instance: %s; reason: No such instance", m[1]))
		}
		switch m[2] {
		case "cpus":
			val = strconv.Itoa(in.CPUs)
		case "memory":
			val = humanSize(in.Memory)
		case "disk":
			val = humanSize(in.Disk)
		case "bridged":
			val = "false"
		}
	} else if key == "client.primary-name" {
		val = s.primaryName()
	} else {
		val = clientKeys[key]
	}
	switch {
	case val != "":
		fmt.Fprintln(c.stdout, val)
	case p.has("raw"):
		fmt.Fprintln(c.stdout)
	default:
		fmt.Fprintln(c.stdout, "<empty>")
	}
	return 0
}

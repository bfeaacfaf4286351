package fakemultipass

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// checkNamesAll is the client's names-versus---all check.
func (c *cli) checkNamesAll(p *parsed, allowEmpty bool) (int, bool) {
	if len(p.pos) == 0 && !p.has("all") && !allowEmpty {
		return c.usage("Name argument or --all is required"), false
	}
	if len(p.pos) > 0 && p.has("all") {
		s := ""
		if len(p.pos) > 1 {
			s = "s"
		}
		return c.usage(fmt.Sprintf("Cannot specify name%s when --all option set", s)), false
	}
	return 0, true
}

func (c *cli) parseTimeout(p *parsed) (int, int, bool) {
	if !p.has("timeout") {
		return 0, 0, true
	}
	n, err := strconv.Atoi(p.get("timeout"))
	if err != nil || n <= 0 {
		return 0, c.usage("error: --timeout value has to be a positive integer"), false
	}
	return n, 0, true
}

// waitDaemon sleeps the injected delay, cut short by a client --timeout;
// it reports whether the client timer fired.
func (c *cli) waitDaemon(timeout int) bool {
	d := c.delay()
	if timeout > 0 && d > time.Duration(timeout)*time.Second {
		time.Sleep(time.Duration(timeout) * time.Second)
		return true
	}
	time.Sleep(d)
	return false
}

// targets resolves the instance names a command acts on: the given ones,
// every instance (--all), or the primary instance.
func (s *store) targets(p *parsed, includeDeleted bool) []string {
	if len(p.pos) > 0 {
		return p.pos
	}
	if !p.has("all") {
		return []string{s.primaryName()}
	}
	var names []string
	for _, in := range s.visible() {
		if includeDeleted || in.State != stDeleted {
			names = append(names, in.Name)
		}
	}
	return names
}

// missing lists the daemon's errors for names that do not exist or are
// deleted.
func (s *store) missing(names []string, deletedOK bool) []string {
	var lines []string
	for _, n := range names {
		in := s.find(n)
		switch {
		case in == nil:
			lines = append(lines, fmt.Sprintf("instance \"%s\" does not exist", n))
		case in.State == stDeleted && !deletedOK:
			lines = append(lines, fmt.Sprintf("instance \"%s\" is deleted", n))
		}
	}
	return lines
}

func actionMessage(p *parsed, names []string, action string) string {
	switch {
	case p.has("all"):
		return action + "all instances"
	case len(names) > 1:
		return action + "requested instances"
	case len(names) == 1:
		return action + names[0]
	}
	return action + "all instances"
}

// boot starts an instance and the units enabled in it.
func (c *cli) boot(in *instance) {
	in.State, in.ShutdownAt = stRunning, 0
	for name, u := range in.Units {
		if u.Enabled && !alive(u.PID, u.Start) {
			_ = c.startUnit(in, name)
		}
	}
}

func (c *cli) cmdStart(args []string) int {
	p, code, ok := c.parseOrUsage("start", args, []opt{{long: "all"}, {long: "timeout", value: true}})
	if !ok {
		return code
	}
	if code, ok := c.checkNamesAll(p, true); !ok {
		return code
	}
	timeout, code, ok := c.parseTimeout(p)
	if !ok {
		return code
	}
	if c.daemonDown() {
		return c.fail("start", socketDown)
	}
	timedOut := c.waitDaemon(timeout)
	s, err := c.open()
	if err != nil {
		return c.fail("start", err.Error())
	}
	names := s.targets(p, false)
	primary := s.primaryName()
	var details []string
	launchPrimary := false
	for _, n := range names {
		in := s.find(n)
		switch {
		case in == nil && n == primary:
			launchPrimary = true
		case in == nil:
			details = append(details, fmt.Sprintf("Instance '%s' does not exist.", n))
		case in.State == stDeleted:
			details = append(details, fmt.Sprintf("Instance '%s' is deleted. Use 'recover' to recover it or 'purge' to permanently delete it.", n))
		}
	}
	c.spin(actionMessage(p, names, "Starting "))
	if len(details) > 0 {
		s.close()
		return c.fail("start", "instance(s) missing\n"+strings.Join(details, "\n"))
	}
	for _, n := range names {
		if in := s.find(n); in != nil && c.state(in) == stUnknown {
			s.close()
			return c.fail("start", fmt.Sprintf("Instance '%s' is already running, but in an unknown state.\nTry to stop it first.", n))
		}
	}
	for _, n := range names {
		if in := s.find(n); in != nil && in.State != stRunning {
			c.boot(in)
		}
	}
	if err := s.commit(); err != nil {
		return c.fail("start", err.Error())
	}
	if launchPrimary {
		r := &launchReq{name: primary, cpus: 1, mem: defaultMemory, disk: defaultDisk, memText: "1G", diskText: "5G", remote: "release", timeout: timeout}
		return c.launch(r)
	}
	if timedOut {
		fmt.Fprintln(c.stderr, "Timed out waiting for instance to start.")
		return 5
	}
	return 0
}

func (c *cli) cmdStop(args []string) int {
	p, code, ok := c.parseOrUsage("stop", args, []opt{{long: "all"}, {long: "time", short: "t", value: true}, {long: "cancel", short: "c"}, {long: "force"}})
	if !ok {
		return code
	}
	if code, ok := c.checkNamesAll(p, true); !ok {
		return code
	}
	if p.has("time") && p.has("cancel") {
		return c.usage("Cannot set 'time' and 'cancel' options at the same time")
	}
	if p.has("force") && (p.has("time") || p.has("cancel")) {
		return c.usage("Cannot set 'force' along with 'time' or 'cancel' options at the same time")
	}
	minutes := 0
	if p.has("time") {
		v := strings.TrimPrefix(p.get("time"), "+")
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c.usage("Time must be in digit form")
		}
		minutes = n
	}
	if code, ok := c.connect("stop"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("stop", err.Error())
	}
	names := s.targets(p, false)
	if lines := s.missing(names, false); len(lines) > 0 {
		s.close()
		return c.fail("stop", notFoundErrors(lines))
	}
	c.spin(actionMessage(p, names, "Stopping "))
	for _, n := range names {
		in := s.find(n)
		switch {
		case p.has("cancel"):
			if in.State == stDelayed {
				in.State, in.ShutdownAt = stRunning, 0
			}
		case minutes > 0:
			if running(in.State) {
				in.State, in.ShutdownAt = stDelayed, time.Now().Add(time.Duration(minutes)*time.Minute).Unix()
			}
		default:
			c.stopUnits(in)
			if in.State != stStopped {
				in.State, in.ShutdownAt = stStopped, 0
			}
		}
	}
	if err := s.commit(); err != nil {
		return c.fail("stop", err.Error())
	}
	return 0
}

func (c *cli) cmdRestart(args []string) int {
	p, code, ok := c.parseOrUsage("restart", args, []opt{{long: "all"}, {long: "timeout", value: true}})
	if !ok {
		return code
	}
	if code, ok := c.checkNamesAll(p, true); !ok {
		return code
	}
	timeout, code, ok := c.parseTimeout(p)
	if !ok {
		return code
	}
	if c.daemonDown() {
		return c.fail("restart", socketDown)
	}
	timedOut := c.waitDaemon(timeout)
	s, err := c.open()
	if err != nil {
		return c.fail("restart", err.Error())
	}
	names := s.targets(p, false)
	if lines := s.missing(names, false); len(lines) > 0 {
		s.close()
		return c.fail("restart", notFoundErrors(lines))
	}
	c.spin(actionMessage(p, names, "Restarting "))
	for _, n := range names {
		if !running(c.state(s.find(n))) {
			s.close()
			return c.fail("restart", fmt.Sprintf("Instance '%s' is already running, but in an unknown state.\nTry to stop and start it instead.", n))
		}
	}
	for _, n := range names {
		in := s.find(n)
		c.stopUnits(in)
		c.boot(in)
	}
	if err := s.commit(); err != nil {
		return c.fail("restart", err.Error())
	}
	if timedOut {
		fmt.Fprintln(c.stderr, "Timed out waiting for instance to restart.")
		return 5
	}
	return 0
}

func (c *cli) cmdDelete(args []string) int {
	p, code, ok := c.parseOrUsage("delete", args, []opt{{long: "all"}, {long: "purge", short: "p"}})
	if !ok {
		return code
	}
	if code, ok := c.checkNamesAll(p, false); !ok {
		return code
	}
	if code, ok := c.connect("delete"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("delete", err.Error())
	}
	names := s.targets(p, true)
	if lines := s.missing(names, true); len(lines) > 0 {
		s.close()
		return c.fail("delete", notFoundErrors(lines))
	}
	for _, n := range names {
		in := s.find(n)
		c.stopUnits(in)
		if p.has("purge") {
			s.remove(n)
			os.RemoveAll(c.instanceDir(n))
			continue
		}
		in.State, in.ShutdownAt = stDeleted, 0
	}
	if err := s.commit(); err != nil {
		return c.fail("delete", err.Error())
	}
	return 0
}

func (c *cli) cmdPurge(args []string) int {
	p, code, ok := c.parseOrUsage("purge", args, nil)
	if !ok {
		return code
	}
	if len(p.pos) > 0 {
		return c.usage("This command takes no arguments")
	}
	if code, ok := c.connect("purge"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("purge", err.Error())
	}
	for _, in := range s.visible() {
		if in.State == stDeleted {
			c.stopUnits(in)
			s.remove(in.Name)
			os.RemoveAll(c.instanceDir(in.Name))
		}
	}
	if err := s.commit(); err != nil {
		return c.fail("purge", err.Error())
	}
	return 0
}

func (c *cli) cmdRecover(args []string) int {
	p, code, ok := c.parseOrUsage("recover", args, []opt{{long: "all"}})
	if !ok {
		return code
	}
	if code, ok := c.checkNamesAll(p, false); !ok {
		return code
	}
	if code, ok := c.connect("recover"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("recover", err.Error())
	}
	names := s.targets(p, true)
	if lines := s.missing(names, true); len(lines) > 0 {
		s.close()
		return c.fail("recover", notFoundErrors(lines))
	}
	for _, n := range names {
		if in := s.find(n); in.State == stDeleted {
			in.State = stStopped
		}
	}
	if err := s.commit(); err != nil {
		return c.fail("recover", err.Error())
	}
	return 0
}

package fakemultipass

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var nameRe = regexp.MustCompile(`^(?:[a-zA-Z]|[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9])$`)

func validName(n string) bool { return nameRe.MatchString(n) }

// images maps the aliases the fake knows to release titles.
var images = map[string]string{
	"24.04": "24.04 LTS", "noble": "24.04 LTS", "lts": "24.04 LTS",
	"22.04": "22.04 LTS", "jammy": "22.04 LTS",
	"20.04": "20.04 LTS", "focal": "20.04 LTS",
	"24.10": "24.10", "oracular": "24.10",
	"25.04": "25.04", "plucky": "25.04",
	"25.10": "25.10", "questing": "25.10",
	"devel": "26.04", "daily": "26.04",
}

// prettyNames are the guests' PRETTY_NAMEs.
var prettyNames = map[string]string{
	"24.04 LTS": "Ubuntu 24.04.1 LTS", "22.04 LTS": "Ubuntu 22.04.5 LTS", "20.04 LTS": "Ubuntu 20.04.6 LTS",
	"24.10": "Ubuntu 24.10", "25.04": "Ubuntu 25.04", "25.10": "Ubuntu 25.10", "26.04": "Ubuntu Resolute Raccoon (development branch)",
}

func prettyName(release string) string {
	if p, ok := prettyNames[release]; ok {
		return p
	}
	return "Ubuntu 24.04.1 LTS"
}

var launchOpts = []opt{
	{long: "cpus", short: "c", value: true},
	{long: "memory", short: "m", value: true},
	{long: "mem", value: true},
	{long: "disk", short: "d", value: true},
	{long: "name", short: "n", value: true},
	{long: "cloud-init", value: true},
	{long: "network", value: true},
	{long: "bridged"},
	{long: "mount", value: true},
	{long: "timeout", value: true},
}

type launchReq struct {
	name      string
	image     string
	remote    string
	cpus      int
	mem, disk int64
	memText   string
	diskText  string
	timeout   int
	cloud     map[string]any
	cloudText []byte
	mounts    [][2]string // host source, guest target
	cloudErr  error
}

func (c *cli) cmdLaunch(args []string) int {
	p, code, ok := c.parseOrUsage("launch", args, launchOpts)
	if !ok {
		return code
	}
	r, code, ok := c.launchRequest(p)
	if !ok {
		return code
	}
	return c.launch(r)
}

// launchRequest does what the client checks before calling the daemon.
func (c *cli) launchRequest(p *parsed) (*launchReq, int, bool) {
	r := &launchReq{cpus: 1, mem: defaultMemory, disk: defaultDisk, memText: "1G", diskText: "5G", remote: "release"}
	if len(p.pos) > 1 {
		return nil, c.usage("Too many arguments supplied"), false
	}
	if len(p.pos) == 1 {
		r.image = p.pos[0]
		low := strings.ToLower(r.image)
		if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "file://") {
			switch strings.Count(r.image, ":") {
			case 0:
			case 1:
				r.remote, r.image, _ = strings.Cut(r.image, ":")
			default:
				return nil, c.usage("Invalid remote and source image name supplied"), false
			}
		}
	}
	if p.has("cpus") {
		n, err := strconv.Atoi(p.get("cpus"))
		if err != nil || n < 1 {
			return nil, c.usage(fmt.Sprintf("Error: invalid CPU count '%s', need a positive integer value.", p.get("cpus"))), false
		}
		r.cpus = n
	}
	for _, k := range []string{"mem", "memory"} {
		if p.has(k) {
			v := p.get(k)
			n, err := parseSize(v)
			if err != nil {
				return nil, c.clientException(err.Error()), false
			}
			r.mem, r.memText = n, v
		}
	}
	if p.has("disk") {
		v := p.get("disk")
		n, err := parseSize(v)
		if err != nil {
			return nil, c.clientException(err.Error()), false
		}
		r.disk, r.diskText = n, v
	}
	if p.has("timeout") {
		n, err := strconv.Atoi(p.get("timeout"))
		if err != nil || n <= 0 {
			return nil, c.usage("error: --timeout value has to be a positive integer"), false
		}
		r.timeout = n
	}
	for _, n := range p.vals["network"] {
		for _, field := range strings.Split(n, ",") {
			if mode, ok := strings.CutPrefix(field, "mode="); ok && mode != "auto" && mode != "manual" {
				return nil, c.usage(fmt.Sprintf("error: Bad network mode '%s', need 'auto' or 'manual'", mode)), false
			}
		}
	}
	for _, m := range p.vals["mount"] {
		src, target, _ := strings.Cut(m, ":")
		abs, err := filepath.Abs(src)
		if err != nil {
			abs = src
		}
		fi, err := os.Stat(abs)
		switch {
		case err != nil:
			return nil, c.usage(fmt.Sprintf("Mount source path \"%s\" does not exist", src)), false
		case !fi.IsDir():
			return nil, c.usage(fmt.Sprintf("Mount source path \"%s\" is not a directory", src)), false
		}
		if target == "" {
			target = abs
		}
		r.mounts = append(r.mounts, [2]string{abs, target})
	}
	r.name = p.get("name")
	if p.has("cloud-init") {
		text, cfg, err := c.loadCloudInit(p.get("cloud-init"))
		if errors.Is(err, errScalarCloudInit) {
			// The client passes it on; the daemon fails on it.
			r.cloudErr = err
		} else if err != nil {
			return nil, c.usage("Could not load cloud-init configuration: " + err.Error()), false
		}
		r.cloud, r.cloudText = cfg, text
	}
	return r, 0, true
}

func (c *cli) loadCloudInit(src string) ([]byte, map[string]any, error) {
	var data []byte
	var err error
	switch {
	case src == "-":
		data, err = io.ReadAll(c.stdin)
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		return nil, nil, fmt.Errorf("%s: fetching cloud-init from a URL is not supported by the stand-in multipass", src)
	default:
		data, err = os.ReadFile(src)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseCloudConfig(data)
	return data, cfg, err
}

// resolveImage is the daemon's image lookup: the release title of an
// image ("" for custom images) or the failure to print.
func resolveImage(r *launchReq) (string, string) {
	low := strings.ToLower(r.image)
	switch {
	case strings.HasPrefix(low, "file://"):
		if _, err := os.Stat(r.image[len("file://"):]); err != nil {
			return "", fmt.Sprintf("Custom image `%s` does not exist.", r.image[len("file://"):])
		}
		return "", ""
	case strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://"):
		return "", ""
	}
	if r.remote != "release" && r.remote != "daily" {
		return "", fmt.Sprintf("Remote \"%s\" is unknown or unreachable.", r.remote)
	}
	if r.image == "" {
		return images["24.04"], ""
	}
	rel, ok := images[low]
	if !ok {
		return "", fmt.Sprintf("Unable to find an image matching \"%s\" in remote \"%s\".", r.image, r.remote)
	}
	return rel, ""
}

var (
	petAdjectives = []string{"able", "brave", "calm", "eager", "fond", "glad", "keen", "lively", "proud", "sturdy", "tidy", "witty"}
	petNouns      = []string{"badger", "crane", "dingo", "egret", "finch", "gecko", "heron", "ibex", "lemur", "otter", "quail", "wren"}
)

func petname() string {
	return petAdjectives[rand.IntN(len(petAdjectives))] + "-" + petNouns[rand.IntN(len(petNouns))]
}

// launch is the daemon's create: validate, reserve the name, build the
// root, apply cloud-init, boot.
func (c *cli) launch(r *launchReq) int {
	if c.daemonDown() {
		return c.fail("launch", socketDown)
	}
	if r.cloudErr != nil {
		return c.fail("launch", r.cloudErr.Error())
	}
	s, err := c.open()
	if err != nil {
		return c.fail("launch", err.Error())
	}
	if r.name == "" {
		for r.name = petname(); s.findAny(r.name) != nil; r.name = petname() {
		}
	}
	detail := ""
	if r.mem < minMemory {
		detail = fmt.Sprintf("Invalid memory size value supplied: %s.", r.memText)
	}
	if r.disk < minDisk {
		detail = fmt.Sprintf("Invalid disk size value supplied: %s.", r.diskText)
	}
	if !validName(r.name) {
		detail = "Invalid instance name supplied: " + r.name
	}
	if detail != "" {
		s.close()
		return c.fail("launch", "Invalid arguments supplied\n"+detail)
	}
	release, msg := resolveImage(r)
	if msg != "" {
		s.close()
		return c.fail("launch", msg)
	}
	if in := s.findAny(r.name); in != nil {
		s.close()
		if in.Preparing {
			return c.fail("launch", fmt.Sprintf("instance \"%s\" is being prepared", r.name))
		}
		return c.fail("launch", fmt.Sprintf("instance \"%s\" already exists", r.name))
	}
	image := r.image
	if image == "" {
		image = "24.04"
	}
	pid := os.Getpid()
	s.st.Instances = append(s.st.Instances, &instance{
		Name: r.name, State: stStopped, Preparing: true, PreparerPID: pid, PreparerStart: startTime(pid),
		Image: image, Release: release, CPUs: r.cpus, Memory: r.mem, Disk: r.disk, Created: time.Now().UnixNano(),
	})
	s.st.Launches++
	launchNo := s.st.Launches
	if err := s.commit(); err != nil {
		return c.fail("launch", err.Error())
	}

	timedOut := false
	if d := c.delay(); r.timeout > 0 && d > time.Duration(r.timeout)*time.Second {
		time.Sleep(time.Duration(r.timeout) * time.Second)
		timedOut = true
	} else {
		time.Sleep(d)
	}
	c.spin("Creating " + r.name)
	packages, runcmd, buildErr := c.buildRoot(r, release)

	injected := c.getenv(EnvLaunchTimeout) == "1"
	if n, err := strconv.Atoi(c.getenv(EnvLaunchTimeouts)); err == nil && launchNo <= n {
		injected = true
	}
	s, err = c.open()
	if err != nil {
		return c.fail("launch", err.Error())
	}
	in := s.findAny(r.name)
	if in == nil || !in.Preparing {
		s.close()
		return c.fail("launch", fmt.Sprintf("instance \"%s\" does not exist", r.name))
	}
	if buildErr != nil {
		s.remove(r.name)
		os.RemoveAll(c.instanceDir(r.name))
		_ = s.commit()
		return c.fail("launch", buildErr.Error())
	}
	in.Preparing, in.PreparerPID, in.PreparerStart = false, 0, 0
	in.IP = s.nextIP()
	in.State = stRunning
	if injected {
		in.State = stUnknown
	}
	in.Packages, in.RunCmd = packages, runcmd
	for _, m := range r.mounts {
		if in.Mounts == nil {
			in.Mounts = map[string]string{}
		}
		in.Mounts[guestPath(guestHome, m[1])] = m[0]
	}
	if err := s.commit(); err != nil {
		return c.fail("launch", err.Error())
	}
	if timedOut {
		fmt.Fprintln(c.stderr, "Timed out waiting for instance launch.")
		return 5
	}
	c.spin("Starting " + r.name)
	if injected {
		return c.fail("launch", notFoundErrors([]string{r.name + ": timed out waiting for response"}))
	}
	c.spin("Waiting for initialization to complete")
	fmt.Fprintf(c.stdout, "Launched: %s\n", r.name)
	for _, m := range r.mounts {
		fmt.Fprintf(c.stdout, "Mounted '%s' into '%s:%s'\n", m[0], r.name, m[1])
	}
	return 0
}

// skeleton is the part of an Ubuntu guest's tree the fake creates.
var skeleton = []string{"home/ubuntu", "root", "tmp", "var/tmp", "etc/systemd/system", "usr/local/bin", "usr/local/sbin", "var/log", "var/lib/cloud/instance", "run"}

// buildRoot creates the instance's filesystem and applies cloud-init.
func (c *cli) buildRoot(r *launchReq, release string) ([]string, []string, error) {
	root := c.root(r.name)
	for _, d := range skeleton {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, nil, err
		}
	}
	_ = os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
	osRelease := fmt.Sprintf("PRETTY_NAME=%q\nNAME=\"Ubuntu\"\nVERSION_ID=%q\nID=ubuntu\n", prettyName(release), strings.Fields(release + " ")[0])
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
		return nil, nil, err
	}
	for _, m := range r.mounts {
		target := filepath.Join(root, guestPath(guestHome, m[1]))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, nil, err
		}
		_ = os.RemoveAll(target)
		if err := os.Symlink(m[0], target); err != nil {
			return nil, nil, err
		}
	}
	packages, runcmd := applyCloudConfig(root, r.cloud, r.cloudText)
	return packages, runcmd, nil
}

// guestPath resolves p against the guest directory cwd.
func guestPath(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

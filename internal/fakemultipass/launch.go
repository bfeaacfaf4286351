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
	// diskSet says --disk was given: without it the disk is the default
	// or the image's size, whichever is larger.
	diskSet bool
	// launchNo counts the launches of the state directory.
	launchNo int
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
		r.disk, r.diskText, r.diskSet = n, v, true
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
		view := c.snapAccess(abs)
		switch {
		case err != nil || view == snapAbsent:
			return nil, c.usage(fmt.Sprintf("Mount source path \"%s\" does not exist", src)), false
		case !fi.IsDir():
			return nil, c.usage(fmt.Sprintf("Mount source path \"%s\" is not a directory", src)), false
		case view == snapDenied:
			return nil, c.usage(fmt.Sprintf("Mount source path \"%s\" is not readable", src)), false
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
			// fmt::println(cerr, "Could not load cloud-init configuration: {}", …)
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
		// The client reads the file itself: what it cannot read (missing,
		// not a regular file or FIFO, or out of the snap's reach) is
		// yaml-cpp's BadFile, with the client's advice.
		fi, serr := os.Stat(src)
		readable := serr == nil && (fi.Mode().IsRegular() || fi.Mode()&os.ModeNamedPipe != 0)
		if readable {
			data, err = c.readLocal(src)
		}
		if !readable || err != nil {
			return nil, nil, fmt.Errorf("bad file: %s\nPlease ensure that Multipass can read it.", src)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseCloudConfig(data)
	return data, cfg, err
}

var (
	petAdjectives = []string{"able", "brave", "calm", "eager", "fond", "glad", "keen", "lively", "proud", "sturdy", "tidy", "witty"}
	petNouns      = []string{"badger", "crane", "dingo", "egret", "finch", "gecko", "heron", "ibex", "lemur", "otter", "quail", "wren"}
)

func petname() string {
	return petAdjectives[rand.IntN(len(petAdjectives))] + "-" + petNouns[rand.IntN(len(petNouns))]
}

// launch is the client's side of a launch: the daemon validates and
// reserves the name, then creates the instance. When the client's
// --timeout is shorter than the creation, the client gives up (exit 5)
// while the daemon goes on: the instance appears later.
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
	release, msg := c.resolveImage(r)
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
	if r.image == "" {
		r.image = "24.04"
	}
	pid := os.Getpid()
	s.st.Instances = append(s.st.Instances, &instance{
		Name: r.name, State: stStopped, Preparing: true, PreparerPID: pid, PreparerStart: startTime(pid),
		Image: r.image, Release: release, CPUs: r.cpus, Memory: r.mem, Disk: r.disk, Created: time.Now().UnixNano(),
	})
	s.st.Launches++
	r.launchNo = s.st.Launches
	if err := s.commit(); err != nil {
		return c.fail("launch", err.Error())
	}

	took := c.delay() + c.launchTime()
	if limit := time.Duration(r.timeout) * time.Second; r.timeout > 0 && took > limit {
		if err := c.detachLaunch(r, release, time.Now().Add(took)); err != nil {
			c.forget(r.name)
			return c.fail("launch", err.Error())
		}
		time.Sleep(limit)
		fmt.Fprintln(c.stderr, "Timed out waiting for instance launch.")
		return 5
	}
	time.Sleep(took)
	c.spin("Creating " + r.name)
	timedOut, msg := c.create(r, release)
	if msg != "" {
		return c.fail("launch", msg)
	}
	c.spin("Starting " + r.name)
	if timedOut {
		return c.fail("launch", notFoundErrors([]string{r.name + ": timed out waiting for response"}))
	}
	c.spin("Waiting for initialization to complete")
	fmt.Fprintf(c.stdout, "Launched: %s\n", r.name)
	for _, m := range r.mounts {
		fmt.Fprintf(c.stdout, "Mounted '%s' into '%s:%s'\n", m[0], r.name, m[1])
	}
	return 0
}

// launchTime is how long the daemon takes to create and boot an instance
// (the image download included): EnvLaunchTime, else nothing.
func (c *cli) launchTime() time.Duration {
	d, _ := time.ParseDuration(strings.TrimSpace(c.getenv(EnvLaunchTime)))
	return max(d, 0)
}

// create is the daemon's creation of a reserved instance: the image's
// disk floor, the root, cloud-init, the boot. It returns whether the
// daemon's own wait timed out (injected: the instance stays, Unknown) or
// the failure to print (the reservation is dropped).
func (c *cli) create(r *launchReq, release string) (bool, string) {
	image := imageFor(r, release)
	if r.diskSet && r.disk < image.minDisk {
		c.forget(r.name)
		return false, fmt.Sprintf("Requested disk (%d bytes) below minimum for this image (%d bytes)", r.disk, image.minDisk)
	}
	boot, buildErr := c.buildRoot(r, release, image)
	injected := c.getenv(EnvLaunchTimeout) == "1"
	if n, err := strconv.Atoi(c.getenv(EnvLaunchTimeouts)); err == nil && r.launchNo <= n {
		injected = true
	}
	s, err := c.open()
	if err != nil {
		return false, err.Error()
	}
	in := s.findAny(r.name)
	if in == nil || !in.Preparing {
		s.close()
		return false, fmt.Sprintf("instance \"%s\" does not exist", r.name)
	}
	if buildErr != nil {
		s.remove(r.name)
		os.RemoveAll(c.instanceDir(r.name))
		_ = s.commit()
		return false, buildErr.Error()
	}
	in.Preparing, in.PreparerPID, in.PreparerStart = false, 0, 0
	in.IP = s.nextIP()
	in.State = stRunning
	if injected {
		in.State = stUnknown
	}
	in.Disk = max(in.Disk, image.minDisk)
	if r.diskSet {
		in.Disk = r.disk
	}
	in.GLIBC = image.glibc
	in.Packages, in.RunCmd, in.Installed, in.CloudInitErrors = boot.packages, boot.runcmd, boot.installed, boot.errors
	for _, m := range r.mounts {
		if in.Mounts == nil {
			in.Mounts = map[string]string{}
		}
		in.Mounts[guestPath(guestHome, m[1])] = m[0]
	}
	if err := s.commit(); err != nil {
		return false, err.Error()
	}
	return injected, ""
}

// forget drops a reservation (a launch that failed before the instance
// existed).
func (c *cli) forget(name string) {
	s, err := c.open()
	if err != nil {
		return
	}
	if in := s.findAny(name); in != nil && in.Preparing {
		s.remove(name)
		os.RemoveAll(c.instanceDir(name))
	}
	_ = s.commit()
}

// skeleton is the part of an Ubuntu guest's tree the fake creates.
var skeleton = []string{"home/ubuntu", "root", "tmp", "var/tmp", "etc/systemd/system", "usr/bin", "usr/sbin", "usr/lib",
	"usr/local/bin", "usr/local/sbin", "var/log", "var/lib/cloud/instance", "run"}

// firstBoot is what cloud-init did at the first boot.
type firstBoot struct {
	packages, runcmd  []string // as the config asked
	installed, errors []string
}

// buildRoot creates the instance's filesystem (merged /usr, the image's
// programs) and runs cloud-init in it.
func (c *cli) buildRoot(r *launchReq, release string, image imageSpec) (firstBoot, error) {
	var fb firstBoot
	root := c.root(r.name)
	for _, d := range skeleton {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fb, err
		}
	}
	for _, d := range []string{"bin", "sbin", "lib"} {
		if err := os.Symlink("usr/"+d, filepath.Join(root, d)); err != nil && !os.IsExist(err) {
			return fb, err
		}
	}
	_ = os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
	version, _, _ := strings.Cut(release, " ")
	osRelease := fmt.Sprintf("PRETTY_NAME=%q\nNAME=\"Ubuntu\"\nVERSION_ID=%q\nID=ubuntu\n", prettyName(release), version)
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
		return fb, err
	}
	for _, p := range image.packages {
		c.installPackage(root, p)
	}
	for _, m := range r.mounts {
		target := filepath.Join(root, guestPath(guestHome, m[1]))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fb, err
		}
		_ = os.RemoveAll(target)
		if err := os.Symlink(m[0], target); err != nil {
			return fb, err
		}
	}
	var pkgErrs []string
	fb.packages, fb.runcmd, fb.errors = applyCloudConfig(root, r.cloud, r.cloudText)
	fb.installed, pkgErrs = c.installPackages(root, image, fb.packages)
	fb.errors = append(fb.errors, pkgErrs...)
	if len(fb.errors) > 0 {
		_ = os.WriteFile(filepath.Join(root, "var/log/cloud-init-output.log"), []byte(strings.Join(fb.errors, "\n")+"\n"), 0o644)
	}
	return fb, nil
}

// guestPath resolves p against the guest directory cwd.
func guestPath(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

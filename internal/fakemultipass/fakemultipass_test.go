package fakemultipass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const runMainEnv = "FAKEMULTIPASS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// fake is one state directory driven through the real executable (this
// test binary re-executed), so unit processes outlive each call as they do
// with the real client.
type fake struct {
	t   *testing.T
	dir string
	env []string
	// home is the user's home, as the snap's AppArmor rules see homes.
	home string
}

type result struct {
	stdout, stderr string
	code           int
}

func newFake(t *testing.T) *fake {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		if err := KillAll(dir); err != nil {
			t.Errorf("KillAll: %v", err)
		}
	})
	homes := t.TempDir()
	home := filepath.Join(homes, "alice")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return &fake{t: t, dir: dir, home: home, env: []string{EnvHomeDirs + "=" + homes, "HOME=" + home}}
}

// with returns a copy of f that adds environment variables.
func (f *fake) with(env ...string) *fake {
	g := *f
	g.env = append(append([]string{}, f.env...), env...)
	return &g
}

func (f *fake) runIn(stdin string, args ...string) result {
	f.t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FAAS_FAKE_MULTIPASS_") {
			env = append(env, kv)
		}
	}
	// Under -race, a program sleeps a second at exit unless told not to.
	cmd.Env = append(append(env, runMainEnv+"=1", EnvDir+"="+f.dir, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE")), f.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatalf("run multipass %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func (f *fake) run(args ...string) result { f.t.Helper(); return f.runIn("", args...) }

// ok runs a command that must succeed.
func (f *fake) ok(args ...string) result {
	f.t.Helper()
	r := f.run(args...)
	if r.code != 0 {
		f.t.Fatalf("multipass %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs a command that must fail with code and exactly stderr.
func (f *fake) fails(code int, stderr string, args ...string) {
	f.t.Helper()
	r := f.run(args...)
	if r.code != code || r.stderr != stderr {
		f.t.Errorf("multipass %s:\n got exit %d, stderr %q\nwant exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr, code, stderr)
	}
}

type infoDoc struct {
	Errors []any                     `json:"errors"`
	Info   map[string]map[string]any `json:"info"`
}

func (f *fake) info(name string) map[string]any {
	f.t.Helper()
	r := f.ok("info", name, "--format", "json")
	var d infoDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		f.t.Fatalf("info %s: %v\n%s", name, err, r.stdout)
	}
	return d.Info[name]
}

func (f *fake) state(name string) string {
	f.t.Helper()
	return f.info(name)["state"].(string)
}

type listDoc struct {
	List []struct {
		IPv4    []string `json:"ipv4"`
		Name    string   `json:"name"`
		Release string   `json:"release"`
		State   string   `json:"state"`
	} `json:"list"`
}

func (f *fake) list() listDoc {
	f.t.Helper()
	var d listDoc
	r := f.ok("list", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		f.t.Fatalf("list: %v\n%s", err, r.stdout)
	}
	return d
}

func (f *fake) launch(name string, extra ...string) {
	f.t.Helper()
	r := f.ok(append([]string{"launch", "--name", name}, extra...)...)
	if !strings.Contains(r.stdout, "Launched: "+name+"\n") {
		f.t.Fatalf("launch %s: stdout %q lacks the Launched line", name, r.stdout)
	}
}

// writeFile writes a file where the snap can read it: a directory of its
// own under the home.
func (f *fake) writeFile(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.homeDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// homeDir is a new directory under the home.
func (f *fake) homeDir() string {
	f.t.Helper()
	d, err := os.MkdirTemp(f.home, "files-")
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// The examples of docs/multipass-cli.md §1 (the elided image hash filled in).
const (
	docListExample = `{"list":[{"ipv4":["10.218.69.109"],"name":"fn-a","release":"Ubuntu 24.04 LTS","state":"Running"},
         {"ipv4":[],"name":"fn-b","release":"Ubuntu 24.04 LTS","state":"Stopped"}]}`
	docInfoExample = `{"errors":[],"info":{
 "fn-a":{"cpu_count":"2","disks":{"sda1":{"total":"5120138752","used":"2402924032"}},
   "image_hash":"dced94c031cc1f23dee14419a3723a5b110df9938de0ac31913a2bfd07c755b4","image_release":"24.04 LTS",
   "ipv4":["10.97.0.76"],"load":[0.16,0.09,0.08],"memory":{"total":996544512,"used":178364416},
   "mounts":{"/home/ubuntu/data":{"gid_mappings":["1000:default"],"source_path":"/home/alice/data","uid_mappings":["1000:default"]}},
   "release":"Ubuntu 24.04.1 LTS","snapshot_count":"0","state":"Running"},
 "fn-b":{"cpu_count":"","disks":{"sda1":{}},"image_hash":"dced94c031cc1f23dee14419a3723a5b110df9938de0ac31913a2bfd07c755b4","image_release":"24.04 LTS","ipv4":[],
   "load":[],"memory":{},"mounts":{},"release":"","snapshot_count":"0","state":"Stopped"}}}`
)

// sameShape compares two decoded JSON values by keys and JSON types.
func sameShape(t *testing.T, where string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", where, got)
			return
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				t.Errorf("%s: key %q missing", where, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s: unexpected key %q", where, k)
			}
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				sameShape(t, where+"."+k, wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %T, want an array", where, got)
			return
		}
		if len(w) == 0 && len(g) != 0 {
			t.Errorf("%s: got %v, want an empty array", where, g)
		}
		if len(w) > 0 && len(g) == 0 {
			t.Errorf("%s: got an empty array, want elements like %v", where, w[0])
		}
		// Element i is compared with the example's element i (or its last).
		for i := range g {
			if len(w) > 0 {
				sameShape(t, fmt.Sprintf("%s[%d]", where, i), w[min(i, len(w)-1)], g[i])
			}
		}
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			t.Errorf("%s: got %T (%v), want %T like %v", where, got, got, want, want)
		}
	}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode: %v\n%s", err, s)
	}
	return v
}

func TestJSONMatchesTheDocExamples(t *testing.T) {
	f := newFake(t)
	src := f.homeDir()
	f.launch("fn-a", "--cpus", "2", "--mount", src+":/home/ubuntu/data")
	f.launch("fn-b")
	f.ok("stop", "fn-b")

	list := f.ok("list", "--format", "json").stdout
	sameShape(t, "list", decode(t, docListExample), decode(t, list))
	info := f.ok("info", "--format", "json").stdout
	sameShape(t, "info", decode(t, docInfoExample), decode(t, info))

	a := f.info("fn-a")
	if a["cpu_count"] != "2" || a["snapshot_count"] != "0" || a["state"] != "Running" || a["release"] != "Ubuntu 24.04.1 LTS" || a["image_release"] != "24.04 LTS" {
		t.Errorf("fn-a: %v", a)
	}
	if h, _ := a["image_hash"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Errorf("image_hash %q", h)
	}
	ip := a["ipv4"].([]any)[0].(string)
	if !regexp.MustCompile(`^127\.0\.\d+\.\d+$`).MatchString(ip) || ip == "127.0.0.1" {
		t.Errorf("ipv4 %q", ip)
	}
	mem := a["memory"].(map[string]any)
	if mem["total"].(float64) != 1<<30 || mem["used"].(float64) < baseMemory {
		t.Errorf("memory %v", mem)
	}
	disk := a["disks"].(map[string]any)["sda1"].(map[string]any)
	if disk["total"] != "5368709120" {
		t.Errorf("disk %v", disk)
	}
	if src := a["mounts"].(map[string]any)["/home/ubuntu/data"].(map[string]any)["source_path"]; src == "" {
		t.Errorf("mounts %v", a["mounts"])
	}

	// Not running: the empty forms, exactly.
	b, _ := json.Marshal(f.info("fn-b"))
	for _, want := range []string{`"cpu_count":""`, `"disks":{"sda1":{}}`, `"ipv4":[]`, `"load":[]`, `"memory":{}`, `"mounts":{}`, `"release":""`, `"state":"Stopped"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("stopped info %s lacks %s", b, want)
		}
	}
	// Qt's layout: sorted keys, four spaces, empty arrays on two lines.
	if !strings.Contains(info, "{\n    \"errors\": [\n    ],\n    \"info\": {\n        \"fn-a\": {\n            \"cpu_count\": \"2\",") {
		t.Errorf("info is not laid out as Qt does:\n%s", info)
	}
}

func TestQtJSON(t *testing.T) {
	got := string(qtJSON(map[string]any{"list": []any{}, "b": map[string]any{}, "a": []any{"x", int64(1), 0.5}}))
	want := "{\n    \"a\": [\n        \"x\",\n        1,\n        0.5\n    ],\n    \"b\": {\n    },\n    \"list\": [\n    ]\n}\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestVersion(t *testing.T) {
	f := newFake(t)
	if r := f.ok("version"); r.stdout != "multipass   1.16.3\nmultipassd  1.16.3\n" {
		t.Errorf("version: %q", r.stdout)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(f.ok("version", "--format", "json").stdout), &v); err != nil || v["multipass"] != "1.16.3" || v["multipassd"] != "1.16.3" {
		t.Errorf("version json: %v %v", v, err)
	}
	down := f.with(EnvDaemonDown + "=1")
	if r := down.ok("version"); r.stdout != "multipass   1.16.3\n" {
		t.Errorf("version, daemon down: %q", r.stdout)
	}
	v = nil
	if err := json.Unmarshal([]byte(down.ok("version", "--format", "json").stdout), &v); err != nil || v["multipassd"] != "" {
		t.Errorf("version json, daemon down: %v %v", v, err)
	}
}

func TestMessages(t *testing.T) {
	f := newFake(t)
	f.launch("fn-a")
	for _, n := range []string{"1nvalid-name", "invalid.name", "invalid$name", "invalid(name)", "invalid-name-"} {
		f.fails(2, "launch failed: Invalid arguments supplied\nInvalid instance name supplied: "+n+"\n", "launch", "--name", n)
	}
	for _, tc := range []struct {
		args   string
		code   int
		stderr string
	}{
		{"launch --name ok --memory 64M", 2, "launch failed: Invalid arguments supplied\nInvalid memory size value supplied: 64M.\n"},
		{"launch --name ok --disk 100M", 2, "launch failed: Invalid arguments supplied\nInvalid disk size value supplied: 100M.\n"},
		{"launch --name fn-a", 2, "launch failed: instance \"fn-a\" already exists\n"},
		{"launch --cpus 0", 1, "Error: invalid CPU count '0', need a positive integer value.\n"},
		{"launch --timeout -3", 1, "error: --timeout value has to be a positive integer\n"},
		{"launch a b", 1, "Too many arguments supplied\n"},
		{"launch a:b:c", 1, "Invalid remote and source image name supplied\n"},
		{"launch nosuch", 2, "launch failed: Unable to find an image matching \"nosuch\" in remote \"release\".\n"},
		{"launch --frobnicate", 1, "Unknown option 'frobnicate'.\n"},
		{"list --format xml", 1, "Invalid format type given.\n"},
		{"list extra", 1, "This command takes no arguments\n"},
		{"info nope --format json", 2, "info failed: The following errors occurred:\ninstance \"nope\" does not exist\n"},
		{"info fn-a nope --format json", 2, "info failed: The following errors occurred:\ninstance \"nope\" does not exist\n"},
		{"start nope", 2, "start failed: instance(s) missing\nInstance 'nope' does not exist.\n"},
		{"stop nope", 2, "stop failed: The following errors occurred:\ninstance \"nope\" does not exist\n"},
		{"stop -t 1 -c fn-a", 1, "Cannot set 'time' and 'cancel' options at the same time\n"},
		{"delete", 1, "Name argument or --all is required\n"},
		{"delete nope", 2, "delete failed: The following errors occurred:\ninstance \"nope\" does not exist\n"},
		{"exec fn-a", 1, "Wrong number of arguments\n"},
		{"exec fn-a ls -l", 1, "Unknown option 'l'.\n\nOptions to the inner command should come after \"--\", like this:\nmultipass exec <instance> -- <command> <arguments>\n"},
		{"exec nope -- true", 2, "exec failed: instance \"nope\" does not exist\n"},
		{"set local.fn-a.cpus=2", 2, "set failed: Cannot update instance settings; instance: fn-a; reason: Instance must be stopped for modification\n"},
		{"set local.nope.cpus=2", 2, "set failed: Cannot update instance settings; instance: nope; reason: No such instance\n"},
		{"set bogus.key=1", 1, "Unrecognized settings key: 'bogus.key'\n"},
		{"get local.nope.cpus", 2, "get failed: Cannot obtain instance settings; instance: nope; reason: No such instance\n"},
		{"transfer x", 1, "Not enough arguments given\n"},
		{"transfer - -", 1, "Only one '-' allowed\n"},
		{"transfer - out", 1, "Target must be inside an instance\n"},
		{"transfer in -", 1, "Source must be from inside an instance\n"},
		{"transfer a b", 1, "An instance name is needed for either source or destination\n"},
		{"transfer fn-a:a fn-a:b", 1, "Cannot specify an instance name for both source and destination\n"},
		{"transfer fn-a:a b c", 1, "All sources must be from inside an instance\n"},
		{"transfer nope:a .", 2, "transfer failed: instance \"nope\" does not exist\n"},
	} {
		f.fails(tc.code, tc.stderr, strings.Fields(tc.args)...)
	}
	r := f.run("frobnicate")
	if r.code != 1 || r.stdout != "Error: Unknown command or alias 'frobnicate' (try \"multipass help\" or \"multipass aliases\")\n" {
		t.Errorf("unknown command: %d %q", r.code, r.stdout)
	}
	r = f.run("launch", "--memory", "12T")
	if r.code != 1 || !regexp.MustCompile(`^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\] \[error\] \[client\] Caught an unhandled exception: 12T is not a valid memory size - need a non-negative integer \(in base 10\) or a decimal followed by K, M, or G \(e\.g\. 1234B, 42MiB, 0\.5G\)\n$`).MatchString(r.stderr) {
		t.Errorf("bad size: %d %q", r.code, r.stderr)
	}
	if r := f.run(); r.code != 2 {
		t.Errorf("bare multipass: exit %d", r.code)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"512M", 512 << 20}, {"1G", 1 << 30}, {"1GiB", 1 << 30}, {"1GB", 1 << 30}, {"1.5G", 3 << 29},
		{"1234B", 1234}, {"1234", 1234}, {"42MiB", 42 << 20}, {"0.5G", 1 << 29}, {" 2k ", 2048}, {"0", 0},
	} {
		if got, err := parseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1T", "1.5", "1.5B", "-1G", "G", "1 G", "abc", ""} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	for b, want := range map[int64]string{1 << 30: "1.0GiB", 5 << 30: "5.0GiB", 512 << 20: "512.0MiB", 3 << 29: "1.5GiB", 100: "100B"} {
		if got := humanSize(b); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestLifecycle(t *testing.T) {
	f := newFake(t)
	f.launch("fn-a", "--cpus", "1", "--memory", "1G", "--disk", "5G")
	l := f.list()
	if len(l.List) != 1 || l.List[0].State != "Running" || len(l.List[0].IPv4) != 1 || l.List[0].Release != "Ubuntu 24.04 LTS" {
		t.Fatalf("list after launch: %+v", l)
	}
	ip := l.List[0].IPv4[0]

	f.fails(2, "set failed: Cannot update instance settings; instance: fn-a; reason: Instance must be stopped for modification\n", "set", "local.fn-a.memory=2G")
	r := f.ok("stop", "fn-a")
	if !strings.Contains(r.stdout, "Stopping fn-a") {
		t.Errorf("stop drew no spinner: %q", r.stdout)
	}
	f.ok("stop", "fn-a") // stopping a stopped instance is a silent success
	if l := f.list(); l.List[0].State != "Stopped" || len(l.List[0].IPv4) != 0 {
		t.Errorf("list after stop: %+v", l)
	}
	f.ok("set", "local.fn-a.memory=2G")
	f.ok("set", "local.fn-a.cpus=3")
	f.ok("set", "local.fn-a.disk=10G")
	f.ok("set", "local.fn-a.disk=10G") // equal is a no-op
	f.fails(2, "set failed: Invalid setting 'local.fn-a.disk=6G': Disk can only be expanded\n", "set", "local.fn-a.disk=6G")
	f.fails(2, "set failed: Invalid setting 'local.fn-a.memory=100M': Memory less than 128M minimum not allowed\n", "set", "local.fn-a.memory=100M")
	f.fails(2, "set failed: Invalid setting 'local.fn-a.memory=0': Need a positive size.\n", "set", "local.fn-a.memory=0")
	f.fails(2, "set failed: Invalid setting 'local.fn-a.cpus=0': Need a positive integer (in decimal format) of minimum 1\n", "set", "local.fn-a.cpus=0")
	for key, want := range map[string]string{"cpus": "3\n", "memory": "2.0GiB\n", "disk": "10.0GiB\n"} {
		if got := f.ok("get", "local.fn-a."+key).stdout; got != want {
			t.Errorf("get %s = %q, want %q", key, got, want)
		}
	}
	f.ok("start", "fn-a")
	a := f.info("fn-a")
	if a["state"] != "Running" || a["cpu_count"] != "3" || a["memory"].(map[string]any)["total"].(float64) != 2<<30 || a["disks"].(map[string]any)["sda1"].(map[string]any)["total"] != "10737418240" {
		t.Errorf("info after resize: %v", a)
	}
	if got := a["ipv4"].([]any)[0]; got != ip {
		t.Errorf("address changed across stop/start: %v, was %s", got, ip)
	}

	f.ok("delete", "fn-a")
	if f.state("fn-a") != "Deleted" {
		t.Error("not Deleted")
	}
	f.ok("delete", "fn-a") // re-deleting is fine
	f.fails(2, "launch failed: instance \"fn-a\" already exists\n", "launch", "--name", "fn-a")
	f.fails(2, "start failed: instance(s) missing\nInstance 'fn-a' is deleted. Use 'recover' to recover it or 'purge' to permanently delete it.\n", "start", "fn-a")
	f.fails(2, "set failed: Cannot update instance settings; instance: fn-a; reason: Instance is deleted\n", "set", "local.fn-a.cpus=2")
	f.ok("recover", "fn-a")
	if f.state("fn-a") != "Stopped" {
		t.Error("recover did not make it Stopped")
	}
	f.ok("recover", "fn-a") // a live instance: no-op
	f.ok("delete", "--purge", "fn-a")
	if l := f.list(); len(l.List) != 0 {
		t.Errorf("list after purge: %+v", l)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "instances", "fn-a")); !os.IsNotExist(err) {
		t.Errorf("purge left the root: %v", err)
	}
	f.launch("fn-a") // the name is free again

	// purge takes every Deleted instance; Deleted ones are listed last.
	f.launch("fn-b")
	f.launch("fn-c")
	f.ok("delete", "fn-a")
	l = f.list()
	if len(l.List) != 3 || l.List[2].Name != "fn-a" || l.List[2].State != "Deleted" {
		t.Errorf("list with a deleted instance: %+v", l)
	}
	f.ok("purge")
	if l := f.list(); len(l.List) != 2 {
		t.Errorf("list after purge: %+v", l)
	}
	f.ok("stop", "--all")
	f.ok("start", "--all")
	f.ok("restart", "--all", "--timeout", "1")
	for _, in := range f.list().List {
		if in.State != "Running" {
			t.Errorf("%s is %s after start --all, restart --all", in.Name, in.State)
		}
	}
}

func TestRestartAndDelayedShutdown(t *testing.T) {
	f := newFake(t)
	f.launch("fn-a")
	f.ok("restart", "fn-a")
	f.ok("stop", "-t", "5", "fn-a")
	if st := f.state("fn-a"); st != "Delayed Shutdown" {
		t.Errorf("state %q", st)
	}
	if len(f.info("fn-a")["ipv4"].([]any)) != 1 {
		t.Error("no address in Delayed Shutdown")
	}
	f.ok("stop", "--cancel", "fn-a")
	if st := f.state("fn-a"); st != "Running" {
		t.Errorf("state after cancel %q", st)
	}
	f.ok("stop", "fn-a")
	f.fails(2, "restart failed: Instance 'fn-a' is already running, but in an unknown state.\nTry to stop and start it instead.\n", "restart", "fn-a")
}

func TestPrimary(t *testing.T) {
	f := newFake(t)
	r := f.ok("start")
	if !strings.Contains(r.stdout, "Launched: primary") || f.state("primary") != "Running" {
		t.Errorf("start with no names: %q", r.stdout)
	}
	f.ok("stop")
	if f.state("primary") != "Stopped" {
		t.Error("stop with no names did not stop primary")
	}
}

func TestTransferAndExec(t *testing.T) {
	f := newFake(t)
	f.launch("fn-a")
	src := f.writeFile("hello.txt", "hi there\n")
	if err := os.Chmod(src, 0o640); err != nil {
		t.Fatal(err)
	}
	f.ok("transfer", src, "fn-a:")
	f.ok("transfer", src, "fn-a:copy.txt")
	f.ok("transfer", src, "fn-a:/tmp/abs.txt")
	home := filepath.Join(f.dir, "instances", "fn-a", "root", "home", "ubuntu")
	for _, p := range []string{filepath.Join(home, "hello.txt"), filepath.Join(home, "copy.txt"), filepath.Join(f.dir, "instances", "fn-a", "root", "tmp", "abs.txt")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, want the source's 0640", p, fi.Mode().Perm())
		}
	}
	if r := f.runIn("", "transfer", src, "fn-a:/usr/local/bin/x"); r.code != 2 || !strings.Contains(r.stderr, "[error] [sftp] cannot open remote file /usr/local/bin/x: Permission denied") {
		t.Errorf("transfer outside the home: %d %q", r.code, r.stderr)
	}
	f.runIn("piped\n", "transfer", "-", "fn-a:piped.txt")
	if r := f.ok("transfer", "fn-a:piped.txt", "-"); r.stdout != "piped\n" {
		t.Errorf("transfer to stdout: %q", r.stdout)
	}
	out := filepath.Join(f.homeDir(), "back.txt")
	f.ok("transfer", "fn-a:copy.txt", out)
	if b, _ := os.ReadFile(out); string(b) != "hi there\n" {
		t.Errorf("pulled %q", b)
	}

	// exec: cwd is the guest home, shims see the root, codes pass through.
	f.ok("exec", "fn-a", "--", "test", "-f", "hello.txt")
	f.ok("exec", "fn-a", "--", "test", "-f", "/home/ubuntu/hello.txt")
	if r := f.run("exec", "fn-a", "--", "test", "-e", "nope"); r.code != 1 {
		t.Errorf("test -e nope: %d", r.code)
	}
	if r := f.run("exec", "fn-a", "--", "sh", "-c", "echo out; echo err >&2; exit 33"); r.code != 33 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("exit code pass-through: %+v", r)
	}
	if r := f.runIn("from stdin", "exec", "fn-a", "--", "cat"); r.stdout != "from stdin" {
		t.Errorf("stdin pass-through: %+v", r)
	}
	if r := f.ok("exec", "fn-a", "--", "pwd"); strings.TrimSpace(r.stdout) != home {
		t.Errorf("host command cwd %q, want %q", r.stdout, home)
	}
	if r := f.run("exec", "fn-a", "--", "no-such-command-x"); r.code != 127 || r.stderr != "bash: line 1: no-such-command-x: command not found\n" {
		t.Errorf("missing command: %+v", r)
	}
	f.fails(1, "install: cannot create regular file '/usr/local/bin/hello': Permission denied\n", "exec", "fn-a", "--", "install", "hello.txt", "/usr/local/bin/hello")
	f.fails(1, "mkdir: cannot create directory '/var/lib/faas': Permission denied\n", "exec", "fn-a", "--", "mkdir", "-p", "/var/lib/faas/code")
	f.ok("exec", "fn-a", "--", "sudo", "mkdir", "-p", "/var/lib/faas/code")
	f.ok("exec", "fn-a", "--", "sudo", "install", "-m", "0755", "hello.txt", "/usr/local/bin/hello")
	fi, err := os.Stat(filepath.Join(f.dir, "instances", "fn-a", "root", "usr", "local", "bin", "hello"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("install -m 0755: %v %v", fi, err)
	}
	f.ok("exec", "fn-a", "--", "sudo", "install", "-m", "0644", "hello.txt", "/var/lib/faas/code/hello.txt")
	if r := f.ok("exec", "fn-a", "-d", "/var/lib/faas/code", "--", "cat", "hello.txt"); r.stdout != "hi there\n" {
		t.Errorf("exec -d: %q", r.stdout)
	}
	f.ok("exec", "fn-a", "--", "sudo", "chmod", "600", "/var/lib/faas/code/hello.txt")
	f.fails(1, "cat: /var/lib/faas/code/hello.txt: Permission denied\n", "exec", "fn-a", "--", "cat", "/var/lib/faas/code/hello.txt")
	f.ok("exec", "fn-a", "--", "sudo", "rm", "-rf", "/var/lib/faas")
	f.fails(1, "cat: /var/lib/faas/code/hello.txt: No such file or directory\n", "exec", "fn-a", "--", "cat", "/var/lib/faas/code/hello.txt")

	// A stopped instance: transfer refuses, exec starts it first.
	f.ok("stop", "fn-a")
	f.fails(2, "transfer failed: instance \"fn-a\" is not running\n", "transfer", src, "fn-a:")
	r := f.ok("exec", "fn-a", "--", "true")
	if !strings.Contains(r.stdout, "Starting fn-a") || f.state("fn-a") != "Running" {
		t.Errorf("exec did not start the instance: %q", r.stdout)
	}
	f.ok("delete", "fn-a")
	f.fails(2, "exec failed: instance \"fn-a\" is deleted\n", "exec", "fn-a", "--", "true")
}

const helloCloudInit = `#cloud-config
packages: [python3]
runcmd:
  - echo never run
write_files:
  - path: /etc/hello/hello.env
    permissions: "0600"
    content: |
      HELLO_ADDR=0.0.0.0:8377
      HELLO_TOKEN=s3cret
  - path: /usr/local/bin/hello
    permissions: "0755"
    content: |
      #!/bin/sh
      echo "args: $*"
      echo "token: $HELLO_TOKEN"
      exec sleep 60
  - path: /etc/systemd/system/hello.service
    permissions: "0644"
    content: |
      [Unit]
      Description=hello for tests
      [Service]
      EnvironmentFile=/etc/hello/hello.env
      ExecStart=/usr/local/bin/hello --addr ${HELLO_ADDR} --home /home/ubuntu
      [Install]
      WantedBy=multi-user.target
  - path: /home/ubuntu/b64.txt
    encoding: b64
    content: aGVsbG8gYjY0
`

func (f *fake) unit(inst, name string) *unit {
	f.t.Helper()
	var st state
	b, err := os.ReadFile(filepath.Join(f.dir, "state.json"))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		f.t.Fatal(err)
	}
	for _, in := range st.Instances {
		if in.Name == inst {
			return in.Units[name]
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloudInitAndSystemd(t *testing.T) {
	f := newFake(t)
	ci := f.writeFile("ci.yaml", helloCloudInit)
	f.launch("fn-a", "--cloud-init", ci)
	root := filepath.Join(f.dir, "instances", "fn-a", "root")
	for p, mode := range map[string]os.FileMode{"etc/hello/hello.env": 0o600, "usr/local/bin/hello": 0o755, "etc/systemd/system/hello.service": 0o644} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("write_files %s: %v %v, want mode %v", p, fi, err, mode)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "home/ubuntu/b64.txt")); string(b) != "hello b64" {
		t.Errorf("b64 file: %q", b)
	}
	// Written, not started.
	if r := f.run("exec", "fn-a", "--", "systemctl", "is-active", "hello"); r.code != 3 || r.stdout != "inactive\n" {
		t.Errorf("unit active right after launch: %+v", r)
	}
	f.fails(1, "cat: /etc/hello/hello.env: Permission denied\n", "exec", "fn-a", "--", "cat", "/etc/hello/hello.env")
	if r := f.ok("exec", "fn-a", "--", "sudo", "cat", "/etc/hello/hello.env"); !strings.Contains(r.stdout, "HELLO_TOKEN=s3cret") {
		t.Errorf("sudo cat: %q", r.stdout)
	}
	if r := f.run("exec", "fn-a", "--", "systemctl", "start", "hello"); r.code != 1 || !strings.Contains(r.stderr, "Interactive authentication required.") {
		t.Errorf("systemctl start without sudo: %+v", r)
	}
	f.fails(5, "Failed to start nope.service: Unit nope.service not found.\n", "exec", "fn-a", "--", "sudo", "systemctl", "start", "nope")

	f.ok("exec", "fn-a", "--", "sudo", "systemctl", "daemon-reload")
	f.ok("exec", "fn-a", "--", "sudo", "systemctl", "start", "hello")
	if r := f.run("exec", "fn-a", "--", "systemctl", "is-active", "hello"); r.code != 0 || r.stdout != "active\n" {
		t.Errorf("is-active after start: %+v", r)
	}
	ip := f.info("fn-a")["ipv4"].([]any)[0].(string)
	logPath := filepath.Join(root, "var/log/hello.log")
	wantLog := fmt.Sprintf("args: --addr %s:8377 --home %s\ntoken: s3cret\n", ip, filepath.Join(root, "home/ubuntu"))
	waitFor(t, "the unit's log", func() bool { b, _ := os.ReadFile(logPath); return string(b) == wantLog })
	u := f.unit("fn-a", "hello.service")
	if u == nil || !alive(u.PID, u.Start) {
		t.Fatalf("unit process not alive: %+v", u)
	}
	if used := f.info("fn-a")["memory"].(map[string]any)["used"].(float64); used <= baseMemory {
		t.Errorf("memory used %v does not count the unit's process", used)
	}

	// Stopping the instance kills it; the unit is not enabled, so booting
	// again (exec's auto-start) leaves it inactive.
	f.ok("stop", "fn-a")
	if alive(u.PID, u.Start) {
		t.Errorf("process %d survived multipass stop", u.PID)
	}
	if r := f.run("exec", "fn-a", "--", "systemctl", "is-active", "hello"); r.code != 3 || !strings.HasSuffix(r.stdout, "inactive\n") {
		t.Errorf("is-active after stop: %+v", r)
	}

	// Enabled units come back with the instance.
	r := f.ok("exec", "fn-a", "--", "sudo", "systemctl", "enable", "--now", "hello")
	if !strings.Contains(r.stderr, "Created symlink") {
		t.Errorf("enable: %+v", r)
	}
	f.ok("exec", "fn-a", "--", "systemctl", "is-active", "hello")
	first := f.unit("fn-a", "hello.service")
	f.ok("exec", "fn-a", "--", "sudo", "systemctl", "start", "hello") // already active: no-op
	if u := f.unit("fn-a", "hello.service"); u.PID != first.PID {
		t.Errorf("start of an active unit started another process")
	}
	f.ok("restart", "fn-a")
	second := f.unit("fn-a", "hello.service")
	if alive(first.PID, first.Start) || !alive(second.PID, second.Start) {
		t.Errorf("restart: old %+v alive=%v, new %+v alive=%v", first, alive(first.PID, first.Start), second, alive(second.PID, second.Start))
	}
	f.ok("exec", "fn-a", "--", "sudo", "systemctl", "stop", "hello")
	if alive(second.PID, second.Start) {
		t.Error("systemctl stop left the process")
	}
	if r := f.run("exec", "fn-a", "--", "systemctl", "is-active", "hello"); r.code != 3 || r.stdout != "inactive\n" {
		t.Errorf("is-active after systemctl stop: %+v", r)
	}
	f.ok("exec", "fn-a", "--", "sudo", "systemctl", "restart", "hello")
	third := f.unit("fn-a", "hello.service")
	f.ok("delete", "--purge", "fn-a")
	if alive(third.PID, third.Start) {
		t.Error("delete --purge left the process")
	}
}

func TestFaults(t *testing.T) {
	t.Run("daemon down", func(t *testing.T) {
		f := newFake(t).with(EnvDaemonDown + "=1")
		for _, cmd := range []string{"list", "info", "launch", "start", "stop", "delete", "exec", "transfer", "set", "get"} {
			args := map[string][]string{
				"list": {"list", "--format", "json"}, "info": {"info", "x"}, "launch": {"launch", "--name", "x"}, "start": {"start", "x"},
				"stop": {"stop", "x"}, "delete": {"delete", "x"}, "exec": {"exec", "x", "--", "true"}, "transfer": {"transfer", "a", "x:"},
				"set": {"set", "local.x.cpus=2"}, "get": {"get", "local.x.cpus"},
			}[cmd]
			f.fails(2, cmd+" failed: cannot connect to the multipass socket\n", args...)
		}
		noDir := newFake(t)
		noDir.dir = ""
		noDir.fails(2, "list failed: cannot connect to the multipass socket\n", "list")
	})
	t.Run("launch timeout", func(t *testing.T) {
		f := newFake(t)
		f.with(EnvLaunchTimeout+"=1").fails(2, "launch failed: The following errors occurred:\nfn-a: timed out waiting for response\n", "launch", "--name", "fn-a")
		if st := f.state("fn-a"); st != "Unknown" {
			t.Errorf("state %q after a launch timeout", st)
		}
		f.fails(2, "exec failed: Cannot retrieve credentials in unknown state\n", "exec", "fn-a", "--", "true")
		f.fails(2, "start failed: Instance 'fn-a' is already running, but in an unknown state.\nTry to stop it first.\n", "start", "fn-a")
		f.ok("stop", "--force", "fn-a")
		f.ok("start", "fn-a")
		if st := f.state("fn-a"); st != "Running" {
			t.Errorf("state %q after stop --force, start", st)
		}
		// Only the first launch times out: a retry after purging succeeds.
		g := newFake(t).with(EnvLaunchTimeouts + "=1")
		g.fails(2, "launch failed: The following errors occurred:\nfn-b: timed out waiting for response\n", "launch", "--name", "fn-b")
		g.ok("delete", "--purge", "fn-b")
		g.launch("fn-b")
	})
	t.Run("unknown", func(t *testing.T) {
		f := newFake(t)
		f.launch("fn-a")
		f.launch("fn-b")
		u := f.with(EnvUnknown + "=fn-a")
		if st := u.state("fn-a"); st != "Unknown" {
			t.Errorf("state %q", st)
		}
		if l := u.list(); l.List[0].State != "Unknown" || len(l.List[0].IPv4) != 0 || l.List[1].State != "Running" {
			t.Errorf("list: %+v", l)
		}
		u.fails(2, "exec failed: Cannot retrieve credentials in unknown state\n", "exec", "fn-a", "--", "true")
		u.fails(2, "restart failed: Instance 'fn-a' is already running, but in an unknown state.\nTry to stop and start it instead.\n", "restart", "fn-a")
		if st := f.state("fn-a"); st != "Running" {
			t.Errorf("without the variable: %q", st)
		}
		once := f.with(EnvUnknownOnce + "=fn-b")
		if st := once.state("fn-b"); st != "Unknown" {
			t.Errorf("once: %q", st)
		}
		once.ok("stop", "--force", "fn-b")
		once.ok("start", "fn-b")
		if st := once.state("fn-b"); st != "Running" {
			t.Errorf("once, after recovery: %q", st)
		}
	})
	t.Run("broken", func(t *testing.T) {
		f := newFake(t)
		f.launch("fn-a")
		f.launch("fn-b")
		b := f.with(EnvBroken + "=fn-a")
		b.fails(2, "list failed: IP not available\n", "list", "--format", "json")
		b.fails(2, "info failed: IP not available\n", "info", "--format", "json")
		b.fails(2, "info failed: IP not available\n", "info", "fn-a", "--format", "json")
		if st := b.state("fn-b"); st != "Running" {
			t.Errorf("info of the other instance: %q", st)
		}
		b.ok("list", "--no-ipv4")
		b.ok("info", "fn-a", "--no-runtime-information")
	})
	t.Run("delay", func(t *testing.T) {
		f := newFake(t)
		start := time.Now()
		f.with(EnvDelay + "=300ms").ok("list")
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("list answered after %v", d)
		}
	})
}

// A client --timeout shorter than the launch: the client gives up with
// exit 5, the daemon goes on, and the instance appears later (its name
// taken meanwhile).
func TestLaunchClientTimeout(t *testing.T) {
	f := newFake(t)
	slow := f.with(EnvLaunchTime + "=3s")
	slow.fails(5, "Timed out waiting for instance launch.\n", "launch", "--name", "fn-a", "--timeout", "1")
	f.fails(2, "info failed: The following errors occurred:\ninstance \"fn-a\" does not exist\n", "info", "fn-a", "--format", "json")
	f.fails(2, "set failed: Cannot update instance settings; instance: fn-a; reason: instance is being prepared\n", "set", "local.fn-a.cpus=1")
	f.fails(2, "launch failed: instance \"fn-a\" is being prepared\n", "launch", "--name", "fn-a")
	waitFor(t, "the instance the daemon went on creating", func() bool {
		r := f.run("info", "fn-a", "--format", "json")
		return r.code == 0 && strings.Contains(r.stdout, `"state": "Running"`)
	})
	f.ok("exec", "fn-a", "--", "test", "-f", "/var/lib/cloud/instance/boot-finished")

	// A test's cleanup ends a creation still under way: nothing appears
	// after it.
	g := newFake(t)
	g.with(EnvLaunchTime+"=1m").fails(5, "Timed out waiting for instance launch.\n", "launch", "--name", "fn-b", "--timeout", "1")
	g.fails(2, "set failed: Cannot update instance settings; instance: fn-b; reason: instance is being prepared\n", "set", "local.fn-b.cpus=1")
	if err := KillAll(g.dir); err != nil {
		t.Fatal(err)
	}
	g.fails(2, "set failed: Cannot update instance settings; instance: fn-b; reason: No such instance\n", "set", "local.fn-b.cpus=1")
	g.launch("fn-b")
}

func TestConcurrentLaunches(t *testing.T) {
	f := newFake(t)
	var wg sync.WaitGroup
	results := make([]result, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("fn-%d", i%3) // two launches per name
			results[i] = f.with(EnvDelay+"=100ms", EnvSpinner+"=0").run("launch", "--name", name)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.code == 0:
			ok++
		case r.code == 2 && (strings.Contains(r.stderr, "already exists") || strings.Contains(r.stderr, "is being prepared")):
		default:
			t.Errorf("launch: %+v", r)
		}
	}
	if ok != 3 {
		t.Errorf("%d launches succeeded, want one per name", ok)
	}
	ips := map[string]bool{}
	for _, in := range f.list().List {
		if len(in.IPv4) != 1 || ips[in.IPv4[0]] {
			t.Errorf("addresses: %+v", f.list())
		}
		ips[in.IPv4[0]] = true
	}
}

func TestCloudInitErrors(t *testing.T) {
	f := newFake(t)
	script := f.writeFile("script.sh", "#!/bin/sh\necho hi\n")
	f.fails(2, "launch failed: operator[] call on a scalar (key: \"users\")\n", "launch", "--name", "x", "--cloud-init", script)
	r := f.run("launch", "--name", "x", "--cloud-init", filepath.Join(t.TempDir(), "missing.yaml"))
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Could not load cloud-init configuration: ") {
		t.Errorf("missing cloud-init file: %+v", r)
	}
	if r := f.runIn("write_files:\n  - path: /home/ubuntu/in.txt\n    content: from stdin\n", "launch", "--name", "x", "--cloud-init", "-"); r.code != 0 {
		t.Errorf("cloud-init from stdin: %+v", r)
	}
	if r := f.ok("exec", "x", "--", "cat", "in.txt"); r.stdout != "from stdin" {
		t.Errorf("cat: %q", r.stdout)
	}
}

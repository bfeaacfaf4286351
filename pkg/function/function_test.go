package function_test

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// wantUsage fails the test unless err is a usage fault.
func wantUsage(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error, want a usage error")
	}
	if k := fault.KindOf(err); k != fault.Usage {
		t.Fatalf("error %q has kind %v, want Usage (%v)", err, k, fault.Usage)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		errHas  string
	}{
		{name: "single letter", in: "a"},
		{name: "single upper letter", in: "Z"},
		{name: "mixed with hyphen and digit last", in: "Ab-9"},
		{name: "plain word", in: "hello"},
		{name: "hyphenated", in: "resize-image"},
		{name: "double hyphen inside", in: "a--b"},
		{name: "digits inside", in: "fn2go"},
		{name: "exactly 40 chars", in: "a" + strings.Repeat("b", 38) + "c"},
		{name: "41 chars", in: "a" + strings.Repeat("b", 39) + "c", wantErr: true, errHas: "longer than 40"},
		{name: "empty", in: "", wantErr: true, errHas: "empty"},
		{name: "digit first", in: "1nvalid-name", wantErr: true, errHas: "invalid function name"},
		{name: "hyphen first", in: "-abc", wantErr: true},
		{name: "dot", in: "invalid.name", wantErr: true},
		{name: "dollar", in: "invalid$name", wantErr: true},
		{name: "shell injection", in: "a;rm -rf", wantErr: true},
		{name: "trailing hyphen", in: "invalid-name-", wantErr: true},
		{name: "underscore", in: "invalid_name", wantErr: true},
		{name: "space", in: "a b", wantErr: true},
		{name: "slash", in: "a/b", wantErr: true},
		{name: "non-ASCII letter", in: "café", wantErr: true},
		{name: "trailing newline", in: "abc\n", wantErr: true},
		{name: "leading space", in: " abc", wantErr: true},
		{name: "only hyphen", in: "-", wantErr: true},
		{name: "only digit", in: "7", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := function.ValidateName(tt.in)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			wantUsage(t, err)
			if tt.errHas != "" && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("ValidateName(%q) error %q does not contain %q", tt.in, err, tt.errHas)
			}
		})
	}
}

// parseSizeTests is shared by TestParseSize and the seeds of FuzzParseSize.
var parseSizeTests = []struct {
	in      string
	want    int64
	wantErr bool
}{
	{in: "256M", want: 256},
	{in: "256m", want: 256},
	{in: "1G", want: 1024},
	{in: "1g", want: 1024},
	{in: "1.5G", want: 1536},
	{in: ".5G", want: 512},
	{in: "512MiB", want: 512},
	{in: "512mib", want: 512},
	{in: "512MB", want: 512},
	{in: "2GB", want: 2048},
	{in: "2GiB", want: 2048},
	{in: "1024K", want: 1},
	{in: "2048KiB", want: 2},
	{in: "1T", want: 1024 * 1024},
	{in: "1TB", want: 1024 * 1024},
	{in: "128", want: 128},
	{in: "0", want: 0},
	{in: "  64M  ", want: 64},
	{in: "1024T", want: 1024 * 1024 * 1024},
	{in: "1025T", wantErr: true},
	{in: "12Q", wantErr: true},
	{in: "", wantErr: true},
	{in: "   ", wantErr: true},
	{in: "-5M", wantErr: true},
	{in: "+5M", wantErr: true},
	{in: "abc", wantErr: true},
	{in: "M", wantErr: true},
	{in: "1.3M", wantErr: true},
	{in: "0.1G", wantErr: true},
	{in: "1K", wantErr: true},
	{in: "1..5G", wantErr: true},
	{in: ".", wantErr: true},
	{in: "5 M", wantErr: true},
	{in: "1e3", wantErr: true},
	{in: "5MBB", wantErr: true},
	{in: "5KG", wantErr: true},
	{in: "NaN", wantErr: true},
	{in: "Inf", wantErr: true},
}

func TestParseSize(t *testing.T) {
	for _, tt := range parseSizeTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := function.ParseSize(tt.in)
			if tt.wantErr {
				wantUsage(t, err)
				if got != 0 {
					t.Errorf("ParseSize(%q) = %d with an error, want 0", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSize(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseSizeByteSuffix: a byte suffix, or a unit that is not K, M, G or
// T, is refused rather than guessed.
func TestParseSizeByteSuffix(t *testing.T) {
	for _, in := range []string{"512B", "512iB", "512I"} {
		if n, err := function.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want a usage error (unit is not K, M, G or T)", in, n)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0M"},
		{64, "64M"},
		{256, "256M"},
		{1023, "1023M"},
		{1024, "1G"},
		{1536, "1536M"},
		{2048, "2G"},
		{5 * 1024, "5G"},
		{1024 * 1024, "1024G"},
	}
	for _, tt := range tests {
		got := function.FormatSize(tt.in)
		if got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := function.ParseSize(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v; want %d, nil", tt.in, back, err, tt.in)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, tt := range parseSizeTests {
		f.Add(tt.in)
	}
	f.Add("1.5GiB")
	f.Add("0.0009765625G")
	f.Add("99999999999999999999999T")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := function.ParseSize(s)
		if err != nil {
			if k := fault.KindOf(err); k != fault.Usage {
				t.Fatalf("ParseSize(%q) error %q has kind %v, want Usage", s, err, k)
			}
			return
		}
		if n < 0 || n > function.MaxDiskMB*1024 {
			t.Fatalf("ParseSize(%q) = %d, outside [0, %d]", s, n, function.MaxDiskMB*1024)
		}
		formatted := function.FormatSize(n)
		back, err := function.ParseSize(formatted)
		if err != nil {
			t.Fatalf("ParseSize(%q) = %d, but ParseSize(FormatSize(%d) = %q) failed: %v", s, n, n, formatted, err)
		}
		if back != n {
			t.Fatalf("ParseSize(%q) = %d, FormatSize = %q, parsed back as %d", s, n, formatted, back)
		}
	})
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr string
	}{
		{name: "nil", in: nil, want: map[string]string{}},
		{name: "good pairs", in: []string{"A=1", "B_2=two", "_x=y"}, want: map[string]string{"A": "1", "B_2": "two", "_x": "y"}},
		{name: "empty value", in: []string{"EMPTY="}, want: map[string]string{"EMPTY": ""}},
		{name: "value with equals", in: []string{"URL=a=b=c"}, want: map[string]string{"URL": "a=b=c"}},
		{name: "value with spaces and newline", in: []string{"MSG=hello world\nbye"}, want: map[string]string{"MSG": "hello world\nbye"}},
		{name: "later pair wins", in: []string{"A=1", "B=2", "A=3"}, want: map[string]string{"A": "3", "B": "2"}},
		{name: "FAAS without underscore is fine", in: []string{"FAASX=1"}, want: map[string]string{"FAASX": "1"}},
		{name: "FAAS_ not at start is fine", in: []string{"MY_FAAS_X=1"}, want: map[string]string{"MY_FAAS_X": "1"}},
		{name: "missing equals", in: []string{"A=1", "NOVALUE"}, wantErr: "KEY=VALUE"},
		{name: "empty string", in: []string{""}, wantErr: "KEY=VALUE"},
		{name: "empty key", in: []string{"=v"}, wantErr: "invalid environment variable name"},
		{name: "key starts with digit", in: []string{"1A=x"}, wantErr: "invalid environment variable name"},
		{name: "key with hyphen", in: []string{"A-B=x"}, wantErr: "invalid environment variable name"},
		{name: "key with space", in: []string{"A B=x"}, wantErr: "invalid environment variable name"},
		{name: "key with dot", in: []string{"a.b=x"}, wantErr: "invalid environment variable name"},
		{name: "FAAS_ prefix reserved", in: []string{"FAAS_PAYLOAD=x"}, wantErr: "reserved"},
		{name: "faas_ prefix reserved case-insensitively", in: []string{"faas_x=1"}, wantErr: "reserved"},
		{name: "mixed-case Faas_ reserved", in: []string{"Faas_Y=1"}, wantErr: "reserved"},
		{name: "NUL in value", in: []string{"A=x\x00y"}, wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := function.ParseEnv(tt.in)
			if tt.wantErr != "" {
				wantUsage(t, err)
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseEnv(%q) error %q does not contain %q", tt.in, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ParseEnv(%q) = %v with an error, want nil", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEnv(%q) error: %v", tt.in, err)
			}
			if got == nil {
				t.Fatalf("ParseEnv(%q) = nil map, want non-nil", tt.in)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEnv(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEnvList(t *testing.T) {
	got := function.EnvList(map[string]string{"B": "2", "A": "1", "C": "x=y"})
	want := []string{"A=1", "B=2", "C=x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EnvList = %q, want %q", got, want)
	}
	if got := function.EnvList(nil); got == nil || len(got) != 0 {
		t.Errorf("EnvList(nil) = %#v, want empty non-nil slice", got)
	}
}

func validConfig() function.Config {
	c := function.DefaultConfig()
	c.Runtime = function.Python
	c.Mode = function.Handler
	return c
}

func TestDefaultConfig(t *testing.T) {
	c := function.DefaultConfig()
	if c.MemoryMB != 256 || c.CPUs != 1 || c.DiskMB != 5*1024 || c.TimeoutMS != 30000 ||
		c.Concurrency != 1 || c.MinInstances != 0 || c.MaxInstances != 0 || c.Env == nil || len(c.Env) != 0 {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	if c.Timeout() != 30*time.Second {
		t.Errorf("DefaultConfig().Timeout() = %v, want 30s", c.Timeout())
	}
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("default python handler config is invalid: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*function.Config)
		wantErr string // empty: valid
	}{
		{name: "default", mutate: func(*function.Config) {}},
		{name: "nil env", mutate: func(c *function.Config) { c.Env = nil }},
		{name: "empty runtime", mutate: func(c *function.Config) { c.Runtime = "" }, wantErr: "unknown runtime"},
		{name: "unknown runtime", mutate: func(c *function.Config) { c.Runtime = "ruby" }, wantErr: "unknown runtime"},
		{name: "empty mode", mutate: func(c *function.Config) { c.Mode = "" }, wantErr: "unknown mode"},
		{name: "unknown mode", mutate: func(c *function.Config) { c.Mode = "daemon" }, wantErr: "unknown mode"},
		{name: "node handler", mutate: func(c *function.Config) { c.Runtime = function.Node }},
		{name: "bash handler", mutate: func(c *function.Config) { c.Runtime = function.Bash }, wantErr: "handler mode needs"},
		{name: "exec handler", mutate: func(c *function.Config) { c.Runtime = function.Exec }, wantErr: "handler mode needs"},
		{name: "bash script", mutate: func(c *function.Config) { c.Runtime, c.Mode = function.Bash, function.Script }},
		{name: "exec script", mutate: func(c *function.Config) { c.Runtime, c.Mode = function.Exec, function.Script }},
		{name: "python script", mutate: func(c *function.Config) { c.Mode = function.Script }},

		{name: "memory below min", mutate: func(c *function.Config) { c.MemoryMB = 63 }, wantErr: "memory 63 MiB"},
		{name: "memory at min", mutate: func(c *function.Config) { c.MemoryMB = 64 }},
		{name: "memory at max", mutate: func(c *function.Config) { c.MemoryMB = 64 * 1024 }},
		{name: "memory above max", mutate: func(c *function.Config) { c.MemoryMB = 64*1024 + 1 }, wantErr: "memory"},
		{name: "memory zero", mutate: func(c *function.Config) { c.MemoryMB = 0 }, wantErr: "memory"},

		{name: "cpus zero", mutate: func(c *function.Config) { c.CPUs = 0 }, wantErr: "cpus 0"},
		{name: "cpus negative", mutate: func(c *function.Config) { c.CPUs = -1 }, wantErr: "cpus"},
		{name: "cpus at max", mutate: func(c *function.Config) { c.CPUs = 64 }},
		{name: "cpus above max", mutate: func(c *function.Config) { c.CPUs = 65 }, wantErr: "cpus 65"},

		{name: "disk below min", mutate: func(c *function.Config) { c.DiskMB = 1023 }, wantErr: "disk 1023"},
		{name: "disk at min", mutate: func(c *function.Config) { c.DiskMB = 1024 }},
		{name: "disk at max", mutate: func(c *function.Config) { c.DiskMB = 1024 * 1024 }},
		{name: "disk above max", mutate: func(c *function.Config) { c.DiskMB = 1024*1024 + 1 }, wantErr: "disk"},

		{name: "timeout zero", mutate: func(c *function.Config) { c.TimeoutMS = 0 }, wantErr: "timeout"},
		{name: "timeout negative", mutate: func(c *function.Config) { c.TimeoutMS = -1 }, wantErr: "timeout"},
		{name: "timeout 1ms", mutate: func(c *function.Config) { c.TimeoutMS = 1 }},
		{name: "timeout at max", mutate: func(c *function.Config) { c.TimeoutMS = time.Hour.Milliseconds() }},
		{name: "timeout above max", mutate: func(c *function.Config) { c.TimeoutMS = time.Hour.Milliseconds() + 1 }, wantErr: "timeout"},

		{name: "concurrency zero", mutate: func(c *function.Config) { c.Concurrency = 0 }, wantErr: "concurrency 0"},
		{name: "concurrency at max", mutate: func(c *function.Config) { c.Concurrency = 1000 }},
		{name: "concurrency above max", mutate: func(c *function.Config) { c.Concurrency = 1001 }, wantErr: "concurrency 1001"},

		{name: "min instances negative", mutate: func(c *function.Config) { c.MinInstances = -1 }, wantErr: "min-instances -1"},
		{name: "min instances equal max", mutate: func(c *function.Config) { c.MinInstances, c.MaxInstances = 1000, 1000 }},
		{name: "min instances above limit", mutate: func(c *function.Config) { c.MinInstances, c.MaxInstances = 1001, 1000 }, wantErr: "min-instances 1001"},
		{name: "max instances one", mutate: func(c *function.Config) { c.MaxInstances = 1 }},
		{name: "max instances above limit", mutate: func(c *function.Config) { c.MaxInstances = 1001 }, wantErr: "max-instances 1001"},
		{name: "max instances below 0", mutate: func(c *function.Config) { c.MaxInstances = -1 }, wantErr: "max-instances -1"},
		{name: "max instances the host's CPUs, min above them", mutate: func(c *function.Config) { c.MinInstances, c.MaxInstances = 1000, 0 }},
		{name: "min above max", mutate: func(c *function.Config) { c.MinInstances, c.MaxInstances = 5, 4 }, wantErr: "above max-instances"},

		{name: "good env", mutate: func(c *function.Config) { c.Env = map[string]string{"A": "1", "B_C": ""} }},
		{name: "bad env key", mutate: func(c *function.Config) { c.Env = map[string]string{"1A": "x"} }, wantErr: "invalid environment variable name"},
		{name: "reserved env key", mutate: func(c *function.Config) { c.Env = map[string]string{"FAAS_JOB": "x"} }, wantErr: "reserved"},
		{name: "NUL in env value", mutate: func(c *function.Config) { c.Env = map[string]string{"A": "\x00"} }, wantErr: "NUL"},

		{name: "http public", mutate: func(c *function.Config) { c.HTTP = function.HTTPPublic }},
		{name: "http private", mutate: func(c *function.Config) { c.HTTP = function.HTTPPrivate }},
		{name: "http other", mutate: func(c *function.Config) { c.HTTP = "open" }, wantErr: `http "open"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", c, err)
				}
				return
			}
			wantUsage(t, err)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRuntimeValid(t *testing.T) {
	for _, r := range function.Runtimes {
		if !r.Valid() {
			t.Errorf("%q.Valid() = false", r)
		}
	}
	for _, r := range []function.Runtime{"", "Python", "ruby", "go"} {
		if r.Valid() {
			t.Errorf("%q.Valid() = true", r)
		}
	}
}

func TestDetectMode(t *testing.T) {
	tests := []struct {
		name    string
		runtime function.Runtime
		code    string
		want    function.Mode
	}{
		// Python.
		{"py top-level def", function.Python, "def handler(event, context):\n    return event\n", function.Handler},
		{"py after imports", function.Python, "import json\n\n\ndef handler(event, context):\n    return 1\n", function.Handler},
		{"py async def", function.Python, "async def handler(event, context):\n    return 1\n", function.Handler},
		{"py space before paren", function.Python, "def handler (event, context):\n    pass\n", function.Handler},
		{"py CRLF lines", function.Python, "import os\r\ndef handler(e, c):\r\n    pass\r\n", function.Handler},
		{"py indented def", function.Python, "    def handler(event, context):\n        return 1\n", function.Script},
		{"py method in class", function.Python, "class H:\n    def handler(self, event, context):\n        return 1\n", function.Script},
		{"py nested in function", function.Python, "def main():\n    def handler(e, c):\n        pass\n", function.Script},
		{"py tab-indented def", function.Python, "if True:\n\tdef handler(e, c):\n\t\tpass\n", function.Script},
		{"py no handler", function.Python, "import sys\nprint(sys.stdin.read())\n", function.Script},
		{"py other name", function.Python, "def handler_v2(event, context):\n    pass\n", function.Script},
		{"py handlers", function.Python, "def handlers(event, context):\n    pass\n", function.Script},
		{"py commented", function.Python, "# def handler(event, context):\nprint(1)\n", function.Script},
		{"py call not def", function.Python, "handler(1, 2)\n", function.Script},
		// Node.
		{"node exports.handler", function.Node, "exports.handler = async (event) => event;\n", function.Handler},
		{"node exports.handler no space", function.Node, "exports.handler=function(e){return e}\n", function.Handler},
		{"node module.exports.handler", function.Node, "module.exports.handler = async (e) => e;\n", function.Handler},
		{"node module.exports object shorthand", function.Node, "async function handler(e) { return e }\nmodule.exports = { handler };\n", function.Handler},
		{"node module.exports object multiline", function.Node, "module.exports = {\n  other: 1,\n  handler: async (e) => e,\n};\n", function.Handler},
		{"node export async function", function.Node, "export async function handler(event) {\n  return event;\n}\n", function.Handler},
		{"node export function", function.Node, "export function handler(event) { return event }\n", function.Handler},
		{"node export const", function.Node, "export const handler = async (e) => e;\n", function.Handler},
		{"node plain script", function.Node, "let data = '';\nprocess.stdin.on('data', d => data += d);\n", function.Script},
		{"node unexported function", function.Node, "function handler(e) { return e }\nhandler(1);\n", function.Script},
		{"node module.exports other", function.Node, "module.exports = { other };\n", function.Script},
		{"node module.exports myhandler", function.Node, "module.exports = { myhandler };\n", function.Script},
		{"node exports.handlers", function.Node, "exports.handlers = [];\n", function.Script},
		{"node export main (OpenWhisk)", function.Node, "export function main() {}\n", function.Handler},
		{"node export other function", function.Node, "export function other() {}\n", function.Script},
		// Other runtimes are always scripts, even with handler-like code.
		{"bash", function.Bash, "def handler(event, context):\n", function.Script},
		{"exec", function.Exec, "exports.handler = 1\n", function.Script},
		{"python code under node", function.Node, "def handler(event, context):\n    pass\n", function.Script},
		{"node code under python", function.Python, "exports.handler = async (e) => e;\n", function.Script},
		{"empty python", function.Python, "", function.Script},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := function.DetectMode(tt.runtime, []byte(tt.code)); got != tt.want {
				t.Errorf("DetectMode(%s, %q) = %s, want %s", tt.runtime, tt.code, got, tt.want)
			}
		})
	}
}

func TestRuntimeFromFile(t *testing.T) {
	tests := []struct {
		path string
		want function.Runtime
	}{
		{"hello.py", function.Python},
		{"/abs/dir/hello.PY", function.Python},
		{"fn.js", function.Node},
		{"fn.mjs", function.Node},
		{"fn.cjs", function.Node},
		{"dir.py/fn.JS", function.Node},
		{"fn.sh", function.Bash},
		{"fn.bash", function.Bash},
		{"fn", function.Exec},
		{"fn.rb", function.Exec},
		{"fn.py.bak", function.Exec},
		{"./bin/tool", function.Exec},
		{"", function.Exec},
	}
	for _, tt := range tests {
		if got := function.RuntimeFromFile(tt.path); got != tt.want {
			t.Errorf("RuntimeFromFile(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestNameFromFile(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"hello.py", "hello"},
		{"/tmp/x/resize.js", "resize"},
		{"hello_world.py", "hello-world"},
		{"my.func.js", "my-func"},
		{"archive.tar.gz", "archive-tar"},
		{"Makefile", "Makefile"},
		{"dir.with.dots/fn.sh", "fn"},
		{"a_b_c", "a-b-c"},
	}
	for _, tt := range tests {
		got := function.NameFromFile(tt.path)
		if got != tt.want {
			t.Errorf("NameFromFile(%q) = %q, want %q", tt.path, got, tt.want)
		}
		if err := function.ValidateName(got); err != nil {
			t.Errorf("NameFromFile(%q) = %q, which ValidateName rejects: %v", tt.path, got, err)
		}
	}
	// A name derived from an odd file may be invalid; ValidateName is the
	// caller's guard.
	if got := function.NameFromFile("2fast.py"); got != "2fast" || function.ValidateName(got) == nil {
		t.Errorf("NameFromFile(2fast.py) = %q, want %q rejected by ValidateName", got, "2fast")
	}
}

func TestIsESModule(t *testing.T) {
	tests := []struct {
		name string
		code string
		want bool
	}{
		{"import default", "import fs from 'fs';\n", true},
		{"import braces", "import { readFile } from 'node:fs/promises';\n", true},
		{"export function", "export async function handler(e) {}\n", true},
		{"export default", "export default function () {}\n", true},
		{"indented import", "  import x from 'y';\n", true},
		{"import on a later line", "// comment\nimport x from 'y';\n", true},
		{"commonjs require", "const fs = require('fs');\nexports.handler = async () => 1;\n", false},
		{"module.exports", "module.exports = { handler };\n", false},
		{"dynamic import", "const m = await import('x');\n", false},
		{"identifier starting with import", "importantThing();\n", false},
		{"identifier starting with export", "exporter.run();\n", false},
		{"commented import", "// import x from 'y'\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := function.IsESModule([]byte(tt.code)); got != tt.want {
				t.Errorf("IsESModule(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestCheckCode(t *testing.T) {
	big := make([]byte, function.MaxCodeBytes+1)
	for i := range big {
		big[i] = 'x'
	}
	tests := []struct {
		name    string
		code    []byte
		wantErr string
	}{
		{name: "nil", code: nil, wantErr: "is empty"},
		{name: "empty", code: []byte{}, wantErr: "is empty"},
		{name: "spaces", code: []byte("   "), wantErr: "is empty"},
		{name: "whitespace mix", code: []byte(" \n\t\r\n \v\f"), wantErr: "is empty"},
		{name: "one char", code: []byte("x")},
		{name: "code surrounded by whitespace", code: []byte("\n\n  print(1)\n\n")},
		{name: "binary", code: []byte("\x7fELF\x00\x01")},
		{name: "exactly at limit", code: big[:function.MaxCodeBytes]},
		{name: "over limit", code: big, wantErr: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := function.CheckCode("fn.py", tt.code)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckCode = %v, want nil", err)
				}
				return
			}
			wantUsage(t, err)
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fn.py") {
				t.Errorf("CheckCode error %q does not contain %q and the file name", err, tt.wantErr)
			}
		})
	}
}

func TestParseHTTPAccess(t *testing.T) {
	for in, want := range map[string]string{"private": "", "": "", "public": "public", "PUBLIC": "public"} {
		got, err := function.ParseHTTPAccess(in)
		if err != nil || got != want {
			t.Errorf("ParseHTTPAccess(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := function.ParseHTTPAccess("none")
	wantUsage(t, err)
	if c := (function.Config{}); c.HTTPAccess() != "private" {
		t.Errorf("a config without http is %q, want private", c.HTTPAccess())
	}
}

// The default most instances follow the host's CPUs; an explicit number
// is kept, and min_instances is never cut.
func TestInstancesFollowTheHostsCPUs(t *testing.T) {
	c := function.DefaultConfig()
	if got, want := c.Instances(), runtime.NumCPU(); got != want {
		t.Errorf("default: %d instances, want the %d CPUs", got, want)
	}
	c.MaxInstances = 7
	if c.Instances() != 7 {
		t.Errorf("max 7: %d instances", c.Instances())
	}
	c.MaxInstances, c.MinInstances = 0, runtime.NumCPU()+3
	if c.Instances() != runtime.NumCPU()+3 {
		t.Errorf("default with min %d: %d instances", c.MinInstances, c.Instances())
	}
}

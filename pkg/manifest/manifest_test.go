package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

const full = `version: 1
functions:
  hello:
    path: hello.py
  resize:
    path: img/resize.js
    handler: main
    runtime: node
    mode: handler
    memory: 512M
    cpus: 2
    disk: 10G
    tmp: 128
    timeout: 10s
    concurrency: 4
    min_instances: 1
    max_instances: 3
    env:
      SIZE: 128
      NAME: thumb
      EMPTY:
    env_file: img/.env
    secrets: [db, api-key=API_KEY]
    network: ["example.com:443"]
    scale_target: 0.5
    scale_idle: 2m
    provider: local
    http: public
    schedule: rate(5 minutes)
    schedule_tz: Europe/Paris
    on_failure: audit
`

func TestParseEverySetting(t *testing.T) {
	m, err := Parse("proj/faas.yaml", []byte(full))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, strings.Join(err.(*Errors).Lines(), "\n"))
	}
	if len(m.Functions) != 2 || m.Functions[0].Name != "hello" || m.Functions[1].Name != "resize" {
		t.Fatalf("functions %+v", m.Functions)
	}
	hello := m.Functions[0]
	want := Defaults()
	want.Name, want.File, want.Pos, want.At = "hello", filepath.Join("proj", "hello.py"), Pos{3, 3}, map[string]Pos{"path": {4, 11}}
	if !reflect.DeepEqual(hello, want) {
		t.Fatalf("hello:\n got %+v\nwant %+v", hello, want)
	}
	r := m.Functions[1]
	got := []any{r.File, r.Handler, r.Runtime, r.Mode, r.Memory, r.CPUs, r.Disk, r.Tmp, r.Timeout, r.Concurrency,
		r.MinInstances, r.MaxInstances, r.Env, r.EnvFile, r.Secrets, r.Network, r.ScaleTarget, r.ScaleIdle, r.Provider, r.HTTP,
		r.Schedule, r.ScheduleTZ, r.OnFailure}
	exp := []any{"proj/img/resize.js", "main", "node", "handler", "512M", 2, "10G", "128", 10 * time.Second, 4,
		1, 3, map[string]string{"SIZE": "128", "NAME": "thumb", "EMPTY": ""}, "proj/img/.env", []string{"db", "api-key=API_KEY"},
		[]string{"example.com:443"}, 0.5, 2 * time.Minute, "local", "public",
		"rate(5 minutes)", "Europe/Paris", "audit"}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("resize:\n got %v\nwant %v", got, exp)
	}
	if len(r.At) != len(FunctionKeys()) || r.At["memory"] != (Pos{10, 13}) {
		t.Fatalf("resize's positions: %v", r.At)
	}
	if f, ok := m.Lookup("resize"); !ok || f.Name != "resize" {
		t.Fatal("Lookup(resize)")
	}
}

// Every error is reported at once, each where it is.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		// yaml says the line where what it was parsing began (here one
		// early), and no column.
		{"syntax", "functions:\n  a:\n    path: [x\n", []string{`f.yaml:2:1: not YAML: did not find expected ',' or ']'`}},
		{"tab", "functions:\n\ta: {}\n", []string{`f.yaml:2:1: not YAML: found character that cannot start any token`}},
		{"empty", "", []string{"f.yaml:1:1: the manifest is empty"}},
		{"not a map", "- a\n", []string{"f.yaml:1:1: the manifest: want a map"}},
		{"no functions", "version: 1\n", []string{"f.yaml:1:1: no `functions:`"}},
		{"version", "version: 2\nfunctions:\n  a: {path: a.py}\n", []string{"f.yaml:1:10: version 2: this faas reads version 1"}},
		{"empty functions", "functions: {}\n", []string{"f.yaml:1:12: functions is empty"}},
		{"merge key", "x: &d {memory: 1G}\nfunctions:\n  a:\n    <<: *d\n    path: a.py\n", []string{
			`f.yaml:1:1: the manifest: unknown key "x"`, "f.yaml:4:5: function a: YAML merge keys (<<) are not supported"}},
		{"many", `functions:
  hello:
    path: hello.py
    memroy: 128M
    cpus: two
    timeout: 30
  Bad_Name:
    path: x.py
  nopath:
    memory: 1G
    http: {path: /}
  bare: hello.py
  hello:
    path: again.py
  empty:
  lists:
    path: l.py
    secrets: [db, Bad]
    network: web
    env: [A=1]
    path2: x
    scale_target: high
`, []string{
			`f.yaml:4:5: function hello: unknown key "memroy": did you mean memory?`,
			`f.yaml:5:11: cpus: want a whole number, not "two"`,
			`f.yaml:6:14: timeout: want a duration with a unit, such as 30s or 2m, not "30"`,
			`f.yaml:7:3: invalid function name "Bad_Name"`,
			`f.yaml:9:3: function nopath has no path`,
			`f.yaml:11:11: http: want a string`,
			`f.yaml:12:9: function bare: want a map of keys to values`,
			`f.yaml:13:3: functions: hello is given twice (first at line 2)`,
			`f.yaml:15:3: function empty has no settings`,
			`f.yaml:18:19: "Bad": invalid secret name "Bad"`,
			`f.yaml:19:14: network: want a list of strings`,
			`f.yaml:20:10: env: want a map`,
			`f.yaml:21:5: function lists: unknown key "path2": did you mean path?`,
			`f.yaml:22:19: scale_target: want a number`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(c.yaml))
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: %v, want *Errors", err)
			}
			if fault.KindOf(err) != fault.Usage {
				t.Errorf("kind %v, want usage", fault.KindOf(err))
			}
			lines := errs.Lines()
			if len(lines) != len(c.want) {
				t.Fatalf("%d errors, want %d:\n%s", len(lines), len(c.want), strings.Join(lines, "\n"))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, lines[i], w)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "faas.yaml")); fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Load(missing) = %v", err)
	}
	p := filepath.Join(t.TempDir(), "faas.yaml")
	if err := os.WriteFile(p, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := Load(p); err != nil || m.Dir != filepath.Dir(p) || m.Functions[0].File != filepath.Join(filepath.Dir(p), "hello.py") {
		t.Fatalf("Load = %+v, %v", m, err)
	}
}

// The JSON Schema in docs/ names exactly the keys the parser accepts, so
// that the two cannot drift apart.
func TestSchemaHasTheParsersKeys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "faas.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Schema               string                     `json:"$schema"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Defs                 struct {
			Function struct {
				AdditionalProperties *bool                      `json:"additionalProperties"`
				Properties           map[string]json.RawMessage `json:"properties"`
			} `json:"function"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("faas.schema.json: %v", err)
	}
	if schema.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %q, want draft 2020-12", schema.Schema)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got := keys(schema.Properties); !slices.Equal(got, TopKeys()) {
		t.Errorf("schema's top-level keys %v, parser's %v", got, TopKeys())
	}
	if got := keys(schema.Defs.Function.Properties); !slices.Equal(got, FunctionKeys()) {
		t.Errorf("schema's function keys %v, parser's %v", got, FunctionKeys())
	}
	// Unknown keys are errors in both.
	if schema.AdditionalProperties == nil || *schema.AdditionalProperties || schema.Defs.Function.AdditionalProperties == nil || *schema.Defs.Function.AdditionalProperties {
		t.Error("the schema must set additionalProperties: false at the top and on a function")
	}
}

func TestKeyOfFlag(t *testing.T) {
	for flag, key := range map[string]string{"memory": "memory", "min-instances": "min_instances", "secret": "secrets", "env-file": "env_file"} {
		if got := KeyOfFlag(flag); got != key {
			t.Errorf("KeyOfFlag(%s) = %s, want %s", flag, got, key)
		}
		if _, ok := functionKeys[KeyOfFlag(flag)]; !ok {
			t.Errorf("%s is no manifest key", KeyOfFlag(flag))
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("functions:\n  a: {path: a.py, env: {A: *x}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse("f.yaml", b)
		if err == nil && len(m.Functions) == 0 {
			t.Fatal("no error and no functions")
		}
		var errs *Errors
		if err != nil && (!errors.As(err, &errs) || len(errs.Lines()) == 0) {
			t.Fatalf("error %v without lines", err)
		}
	})
}

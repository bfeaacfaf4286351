package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
)

type parsed struct {
	Request engine.DeployRequest
	Output  string
}

// request is the request of `faas deploy fn.py` with the defaults, as
// edit changes it.
func request(edit func(r *engine.DeployRequest)) engine.DeployRequest {
	r := engine.DeployRequest{Filename: "fn.py", Provider: engine.ProviderAuto, Config: function.DefaultConfig(), Keep: true}
	if edit != nil {
		edit(&r)
	}
	return r
}

func TestFlags(t *testing.T) {
	get := func(o *Options) parsed { return parsed{o.Request, o.Output} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{"fn.py"}, Want: parsed{request(nil), "name"}},
		{Args: []string{"fn.py", "--name", "f", "--runtime", "NODE", "--mode", "script", "--memory", "1G",
			"--cpus", "2", "--disk", "10G", "--timeout", "90s", "--concurrency", "4", "--min-instances", "1",
			"--max-instances", "3", "--env", "A=1", "--env", "B=x=y", "--provider", "local", "-o", "json"},
			Want: parsed{request(func(r *engine.DeployRequest) {
				r.Name, r.Runtime, r.Mode, r.Provider = "f", function.Node, function.Script, "local"
				c := &r.Config
				c.MemoryMB, c.CPUs, c.DiskMB, c.TimeoutMS = 1024, 2, 10240, 90000
				c.Concurrency, c.MinInstances, c.MaxInstances = 4, 1, 3
				c.Env = map[string]string{"A": "1", "B": "x=y"}
				r.Set = []string{"concurrency", "cpus", "disk", "max-instances", "memory", "min-instances", "timeout"}
			}), "json"}},
		{Args: []string{"fn.py", "--scale-target", "0.5", "--scale-idle", "2m"},
			Want: parsed{request(func(r *engine.DeployRequest) {
				r.Config.ScaleTarget, r.Config.ScaleIdleMS = 0.5, (2 * time.Minute).Milliseconds()
				r.Set = []string{"scale-idle", "scale-target"}
			}), "name"}},
		{Args: []string{"fn.py", "--http", "public"},
			Want: parsed{request(func(r *engine.DeployRequest) {
				r.Config.HTTP = function.HTTPPublic
				r.Set = []string{"http"}
			}), "name"}},
		// private is the default, stored as none: a redeploy with it is no change.
		{Args: []string{"fn.py", "--http", "private"},
			Want: parsed{request(func(r *engine.DeployRequest) { r.Set = []string{"http"} }), "name"}},
		{Args: []string{"fn.py", "--http", "open"}, Usage: true},
		// --env KEY- removes a variable; the others are kept on a redeploy.
		{Args: []string{"fn.py", "--env", "A=1", "--env", "B-"},
			Want: parsed{request(func(r *engine.DeployRequest) {
				r.Config.Env = map[string]string{"A": "1"}
				r.EnvUnset = []string{"B"}
			}), "name"}},
		{Args: []string{"fn.py", "--schedule", "cron(0 12 * * ? *)", "--schedule-tz", "Europe/Paris", "--on-failure", "audit"},
			Want: parsed{request(func(r *engine.DeployRequest) {
				r.Config.Schedule, r.Config.ScheduleTZ, r.Config.OnFailure = "cron(0 12 * * ? *)", "Europe/Paris", "audit"
				r.Set = []string{"on-failure", "schedule", "schedule-tz"}
			}), "name"}},
		{Args: []string{"fn.py", "--schedule", "rate(5 minute)"}, Usage: true},
		{Args: []string{"fn.py", "--schedule", "cron(0 12 L * ? *)"}, Usage: true},
		{Args: []string{"fn.py", "--schedule", "rate(1 hour)", "--schedule-tz", "Mars/Base"}, Usage: true},
		{Args: []string{"fn.py", "--on-failure", "no_such!"}, Usage: true},
		{Args: []string{"fn.py", "--memory", "12Q"}, Usage: true},
		{Args: []string{"fn.py", "--disk", ""}, Usage: true},
		{Args: []string{"fn.py", "--timeout", "-1s"}, Usage: true},
		{Args: []string{"fn.py", "--timeout", "0"}, Usage: true},
		{Args: []string{"fn.py", "--scale-idle", "-1s"}, Usage: true},
		{Args: []string{"fn.py", "--runtime", "cobol"}, Usage: true},
		{Args: []string{"fn.py", "--mode", "x"}, Usage: true},
		{Args: []string{"fn.py", "--env", "NOPE"}, Usage: true},
		{Args: []string{"fn.py", "--cpus", "two"}, Usage: true},
		{Args: []string{"fn.py", "-o", "yaml"}, Usage: true},
		{Args: []string{"fn.py", "--nope"}, Usage: true},
		{Args: []string{}, Usage: true},
		{Args: []string{"a", "b"}, Usage: true},
	})
}

// A declarative request (a manifest's) is the whole config: nothing is
// kept, and NAME- is no removal but a bad name.
func TestDeclarativeRequest(t *testing.T) {
	o := &Options{File: "fn.py", Memory: "128M", Disk: "5G", Tmp: "64M", Timeout: time.Second, CPUs: 1,
		Concurrency: 1, MaxInstances: 10, Env: []string{"A=1"}, Secrets: []string{"db=DB_URL"}, Declarative: true}
	r, err := o.NewRequest()
	if err != nil {
		t.Fatal(err)
	}
	if r.Keep || r.Set != nil || r.Config.MemoryMB != 128 || r.Config.Env["A"] != "1" || r.Config.Secrets[0] != (function.SecretRef{Name: "db", Env: "DB_URL"}) {
		t.Fatalf("got %+v", r)
	}
	o.Secrets = []string{"db-"}
	if _, err := o.NewRequest(); err == nil {
		t.Fatal("secret db- in a declarative request: no error")
	}
	o.Secrets, o.Memory = nil, "12Q"
	_, err = o.NewRequest()
	var se *SettingError
	if !errors.As(err, &se) || se.Flag != "memory" || !strings.HasPrefix(err.Error(), "--memory: ") || strings.Contains(se.Reason(), "--memory") {
		t.Fatalf("memory 12Q: %v", err)
	}
	o.Memory, o.Provider = "128M", "cloud"
	if _, err = o.NewRequest(); !errors.As(err, &se) || se.Flag != "provider" {
		t.Fatalf("provider cloud: %v", err)
	}
}

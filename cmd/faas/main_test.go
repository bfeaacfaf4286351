package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/sandbox"
)

func TestMain(m *testing.M) {
	scripttest.Main(stopPostgres{m}, nil)
}

// stopPostgres stops the PostgreSQL cluster the tests may have started
// once they have run.
type stopPostgres struct{ *testing.M }

func (m stopPostgres) Run() int {
	defer pgtest.Stop()
	return m.M.Run()
}

// TestScripts runs the end-to-end scripts in testdata/script, each with its
// own FAAS_HOME and HOME, and the real faas on PATH.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(false))
}

// scriptParams are the scripts' parameters; [postgres] is true in the
// scripts that keep their records in PostgreSQL.
func scriptParams(postgres bool) testscript.Params {
	return testscript.Params{
		Dir:   "testdata/script",
		Setup: scripttest.Setup,
		Cmds:  scripttest.Cmds(),
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "bashcompletion":
				_, err := os.Stat("/usr/share/bash-completion/bash_completion")
				return err == nil, nil
			case "postgres":
				return postgres, nil
			case "natsexternal":
				return false, nil
			case "netns": // as root: workers in network namespaces of their own
				return netnsOnce(), nil
			case "jail": // functions run jailed here
				return sandbox.DetectSandbox().Jail, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		RequireExplicitExec: true,
	}
}

var netnsOnce = sync.OnceValue(scripttest.NetnsUsable)

// TestScriptsNATS runs the cluster script once more with an external
// nats-server (Debian's nats-server package) in place of the embedded one.
func TestScriptsNATS(t *testing.T) {
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("no nats-server on PATH (apt-get install nats-server)")
	}
	p := scriptParams(false)
	p.Dir = ""
	p.Files = []string{"testdata/script/cluster.txtar"}
	cond := p.Condition
	p.Condition = func(c string) (bool, error) {
		if c == "natsexternal" {
			return true, nil
		}
		return cond(c)
	}
	testscript.Run(t, p)
}

// postgresScripts are the scripts TestScriptsPostgres runs by default.
var postgresScripts = []string{"quickstart", "async", "bill", "serve", "concurrency", "db", "dbcopy", "twoservers", "heartbeat", "retention", "cluster_twoservers"}

// TestScriptsPostgres runs scripts once more with their records in
// PostgreSQL, each on a new database: on the server FAAS_TEST_DATABASE_URL
// names, or on a throw-away cluster. FAAS_TEST_POSTGRES_SCRIPTS says which
// ("default", or names without .txtar, comma-separated); unset, it skips.
func TestScriptsPostgres(t *testing.T) {
	which := os.Getenv("FAAS_TEST_POSTGRES_SCRIPTS")
	if which == "" {
		t.Skip("set FAAS_TEST_POSTGRES_SCRIPTS=default (or script names) to run scripts on PostgreSQL")
	}
	names := postgresScripts
	if which != "default" {
		names = strings.Split(which, ",")
	}
	server, err := pgtest.Server()
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	var files []string
	for _, n := range names {
		files = append(files, filepath.Join("testdata", "script", strings.TrimSpace(n)+".txtar"))
	}
	p := scriptParams(true)
	p.Dir, p.Files = "", files
	p.Setup = func(env *testscript.Env) error {
		if err := scripttest.Setup(env); err != nil {
			return err
		}
		url, err := pgtest.CreateDatabase(context.Background(), server)
		if err != nil {
			return err
		}
		env.Setenv(faashome.DatabaseEnv, url)
		env.Defer(func() { _ = pgtest.DropDatabase(context.Background(), server, url) })
		return nil
	}
	testscript.Run(t, p)
}

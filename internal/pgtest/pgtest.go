// Package pgtest gives tests a PostgreSQL database of their own: on the
// server FAAS_TEST_DATABASE_URL names, or on a throw-away cluster it starts
// (initdb and pg_ctl, as the postgres user when run as root, listening on a
// unix socket only, fsync off) and stops when the tests end.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names a server for the tests (its database is the one to connect
// to for creating others); unset, a throw-away cluster is started.
const EnvURL = "FAAS_TEST_DATABASE_URL"

var (
	mu      sync.Mutex
	started *cluster
	// startErr is why no cluster could be started (the tests skip).
	startErr error
)

type cluster struct {
	dir, data, bin string
	asPostgres     bool
}

// Server returns the URL of a server to create databases on, starting the
// throw-away cluster on first use. skip is why there is none (no
// PostgreSQL installed), for the caller to skip with.
func Server() (serverURL string, skip error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if started == nil && startErr == nil {
		started, startErr = start()
	}
	if startErr != nil {
		return "", startErr
	}
	return started.url("postgres"), nil
}

// Stop stops the cluster this process started, if any, and removes it.
// A TestMain calls it after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if started == nil {
		return
	}
	_ = started.run("pg_ctl", "-D", started.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(started.dir)
	started = nil
}

// NewDatabase creates an empty database for t and returns its URL; it is
// dropped when t ends (after the cleanups t registers later, such as
// closing the store). Without PostgreSQL, t is skipped, saying why.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server, err := Server()
	if err != nil {
		t.Skipf("no PostgreSQL for this test: %v", err)
	}
	u, err := CreateDatabase(context.Background(), server)
	if err != nil {
		t.Fatalf("create a test database: %v", err)
	}
	t.Cleanup(func() { _ = DropDatabase(context.Background(), server, u) })
	return u
}

// CreateDatabase creates a database faas_<random> on the server and
// returns its URL.
func CreateDatabase(ctx context.Context, server string) (string, error) {
	b := make([]byte, 6)
	rand.Read(b)
	name := "faas_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return WithDatabase(server, name), nil
}

// DropDatabase drops the database of u, closing its connections.
func DropDatabase(ctx context.Context, server, u string) error {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)")
	return err
}

// WithDatabase is the connection string s naming database db instead.
func WithDatabase(s, db string) string {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		if u, err := url.Parse(s); err == nil {
			u.Path = "/" + db
			return u.String()
		}
	}
	return s + " dbname=" + db
}

func (c *cluster) url(db string) string {
	return "postgres://postgres@/" + db + "?host=" + url.QueryEscape(c.dir)
}

// binDir finds PostgreSQL's server programs: on PATH, or Debian's
// /usr/lib/postgresql/<newest>/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql; apt-get install postgresql)")
}

func start() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "faas-pg-")
	if err != nil {
		return nil, err
	}
	c.dir, c.data = dir, filepath.Join(dir, "data")
	if c.asPostgres {
		// PostgreSQL refuses to run as root: the cluster is the postgres user's.
		pg, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := c.run("initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	conf := fmt.Sprintf("\nlisten_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\nshared_buffers = 64MB\n", dir)
	if err := appendFile(filepath.Join(c.data, "postgresql.conf"), conf); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.run("pg_ctl", "-D", c.data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// run runs one of PostgreSQL's programs, as the postgres user when this
// process is root.
func (c *cluster) run(prog string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(c.bin, prog)
	cmd := exec.CommandContext(ctx, path, args...)
	if c.asPostgres {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", prog, strings.Join(args, " "), err, out)
	}
	return nil
}

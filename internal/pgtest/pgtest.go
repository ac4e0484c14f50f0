// Package pgtest gives a package's tests a PostgreSQL server of their own:
// Main runs initdb into a temporary folder, starts the cluster with pg_ctl
// on a free port of 127.0.0.1 (its socket in that folder too) and stops it
// and removes the folder when the tests end; Database hands each test a new
// empty database in it (Server, for a test that cannot have Main, starts
// one of its own).
//
// The binaries are Debian's (package postgresql), found under
// /usr/lib/postgresql/*/bin. When they are missing a test asking for a
// database fails under CI (CI=true), where a PostgreSQL test must never be
// skipped, and is skipped elsewhere, saying what to install. As root (the
// way CI runs) the cluster runs as the postgres user, which PostgreSQL
// requires.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// server is a running cluster.
type server struct {
	dsn  func(db string) string // the URL of database db
	stop func()
}

// cluster is the server Main started for this test binary, or why there is
// none.
var cluster struct {
	srv     *server
	missing string // the binaries are not installed: skip, or fail under CI
	err     error  // they are, but the cluster did not start: always fail
}

var databases atomic.Int32

// Main runs the tests of m with a cluster of their own, stops it, and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	cluster.srv, cluster.missing, cluster.err = start()
	code := m.Run()
	if cluster.srv != nil {
		cluster.srv.stop()
	}
	os.Exit(code)
}

// Database returns the URL of a new, empty database for t on the cluster of
// Main.
func Database(t testing.TB) string {
	t.Helper()
	usable(t, cluster.srv, cluster.missing, cluster.err)
	return database(t, cluster.srv)
}

// Server starts a cluster for t alone, stopped when t ends, and returns the
// URL of a new, empty database on it: for a package whose TestMain is not
// its own to give (testscript.Main). It costs a few seconds.
func Server(t testing.TB) string {
	t.Helper()
	srv, missing, err := start()
	usable(t, srv, missing, err)
	t.Cleanup(srv.stop)
	return database(t, srv)
}

// usable fails or skips t when there is no server, saying why.
func usable(t testing.TB, srv *server, missing string, err error) {
	t.Helper()
	switch {
	case err != nil:
		t.Fatalf("pgtest: %v", err)
	case missing != "" && os.Getenv("CI") == "true":
		t.Fatalf("pgtest: %s; CI must run every PostgreSQL test (install Debian's postgresql package)", missing)
	case missing != "":
		t.Skipf("pgtest: %s: skipping PostgreSQL tests (apt-get install postgresql to run them)", missing)
	case srv == nil:
		t.Fatal("pgtest: no cluster; call pgtest.Main from TestMain")
	}
}

func database(t testing.TB, srv *server) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", databases.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.dsn("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return srv.dsn(name)
}

// start starts a cluster in a new temporary folder, or says why it could
// not: missing when the binaries are not installed, err when they failed.
func start() (srv *server, missing string, err error) {
	bin := binaries()
	if bin == "" {
		return nil, "no PostgreSQL under /usr/lib/postgresql/*/bin", nil
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, "", err
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		if os.Geteuid() == 0 {
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", cmd.Path}, args...)...)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", name, err, out)
		}
		return nil
	}
	if os.Geteuid() == 0 {
		err = ownedByPostgres(dir)
	}
	var port int
	if err == nil {
		port, err = freePort()
	}
	data := filepath.Join(dir, "data")
	if err == nil {
		err = run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	}
	if err == nil {
		// A test cluster needs no durability: fsync off makes it quick.
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
		err = run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start")
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("%v\n%s", err, log)
	}
	return &server{
		dsn: func(db string) string {
			return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
		},
		stop: func() {
			if err := run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
			os.RemoveAll(dir)
		},
	}, "", nil
}

// binaries returns the bin folder of the newest PostgreSQL installed, or "".
func binaries() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[len(found)-1])
}

func version(pgctl string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgctl))))
	return v
}

// ownedByPostgres hands dir to the postgres user, who runs the cluster.
func ownedByPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("the cluster must run as user postgres: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

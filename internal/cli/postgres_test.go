package cli

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openum/openum/internal/pgtest"
)

// TestScriptsOnPostgres runs testdata/postgres/*.txtar with the directory
// and the message store in a PostgreSQL database, one per script, on a
// cluster of their own (OPENUM_DIRECTORY); SECRET_URL is
// the same with a password, which the cluster's trust authentication
// ignores.
func TestScriptsOnPostgres(t *testing.T) {
	server := pgtest.Server(t)
	var scripts atomic.Int32
	testscript.Run(t, testscript.Params{
		Dir: "testdata/postgres",
		Setup: func(env *testscript.Env) error {
			// Each script a database of its own: each migrates it.
			url, err := createDatabase(server, fmt.Sprintf("script_%d", scripts.Add(1)))
			if err != nil {
				return err
			}
			env.Setenv("OPENUM_DATA", filepath.Join(env.WorkDir, "data"))
			env.Setenv("OPENUM_DIRECTORY", url)
			env.Setenv("SECRET_URL", strings.Replace(url, "postgres@", "postgres:hunter2@", 1))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"sleep": sleep, "wav": writeWAV},
	})
}

// createDatabase makes database name on the cluster of server (a URL) and
// returns its URL.
func createDatabase(server, name string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openum/openum/internal/pgtest"
)

// TestScriptsOnPostgres runs testdata/postgres/*.txtar with the directory
// in a PostgreSQL database of their own (OPENUM_DIRECTORY); SECRET_URL is
// the same with a password, which the cluster's trust authentication
// ignores.
func TestScriptsOnPostgres(t *testing.T) {
	url := pgtest.Server(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/postgres",
		Setup: func(env *testscript.Env) error {
			env.Setenv("OPENUM_DATA", filepath.Join(env.WorkDir, "data"))
			env.Setenv("OPENUM_DIRECTORY", url)
			env.Setenv("SECRET_URL", strings.Replace(url, "postgres@", "postgres:hunter2@", 1))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"sleep": sleep},
	})
}

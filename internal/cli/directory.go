package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/postgres"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/msgstore"
	msgpostgres "github.com/openum/openum/internal/msgstore/postgres"
	msgsqlite "github.com/openum/openum/internal/msgstore/sqlite"
)

// directoryFlagHelp says what --directory takes.
const directoryFlagHelp = "the directory: a postgres:// URL of a database several servers share, or empty for the SQLite file in --data (env OPENUM_DIRECTORY)"

// postgresURL returns the URL of --directory, else of $OPENUM_DIRECTORY,
// when it names a PostgreSQL database, "" for the default SQLite file, or
// an error for anything else. The environment is read here, not made the
// flag's default, so that --help never shows a password.
func (a *app) postgresURL() (string, error) {
	s := a.directoryURL
	if s == "" {
		s = os.Getenv("OPENUM_DIRECTORY")
	}
	if s == "" {
		return "", nil
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return s, nil
	}
	return "", fmt.Errorf("--directory must be a postgres:// URL, or empty for the SQLite file in --data, not %q", redactURL(s))
}

// storage returns the URL of the PostgreSQL database --directory names,
// or "" for the SQLite files in the data directory. The data directory is
// made either way, as the other files of a server live there; it holds
// keys and PIN hashes: only its owner may enter it.
func (a *app) storage() (string, error) {
	pg, err := a.postgresURL()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(a.dataDir, 0o700); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return pg, nil
}

// directory opens the directory --directory names, once: the PostgreSQL
// database of a postgres:// URL, or by default directory.db in the data
// directory.
func (a *app) directory(ctx context.Context) (directory.Directory, error) {
	if a.dir != nil {
		return a.dir, nil
	}
	pg, err := a.storage()
	if err != nil {
		return nil, err
	}
	var dir directory.Directory
	if pg != "" {
		dir, err = postgres.Open(ctx, pg)
	} else {
		dir, err = sqlite.Open(ctx, filepath.Join(a.dataDir, "directory.db"))
	}
	if err != nil {
		return nil, err
	}
	a.dir = dir
	return dir, nil
}

// messages opens the message store, once, on the directory's engine: in
// the PostgreSQL database of --directory, in tables of its own, so that
// every server sharing the directory shares the messages; by default in
// messages.db beside directory.db in the data directory, created on first
// use.
func (a *app) messages(ctx context.Context) (msgstore.Store, error) {
	if a.msgs != nil {
		return a.msgs, nil
	}
	pg, err := a.storage()
	if err != nil {
		return nil, err
	}
	var s msgstore.Store
	if pg != "" {
		s, err = msgpostgres.Open(ctx, pg)
	} else {
		s, err = msgsqlite.Open(ctx, filepath.Join(a.dataDir, "messages.db"))
	}
	if err != nil {
		return nil, err
	}
	a.msgs = s
	return s, nil
}

func (a *app) directoryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "directory", Short: "Look after the directory's database"}
	cmd.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Bring the directory's schema up to date (a PostgreSQL directory needs it before first use and after each upgrade of openum)",
		Long: "migrate applies the schema migrations the directory lacks, each once, and none when it is up to date;\n" +
			"on PostgreSQL, those of the message store too, whose tables share the directory's database.\n" +
			"A SQLite directory is brought up to date whenever it is opened; a PostgreSQL directory, which several\n" +
			"servers share, only by this command: run it once after upgrading openum, then restart the servers.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pg, err := a.postgresURL()
			if err != nil {
				return err
			}
			if pg == "" {
				if _, err := a.directory(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "openum: the directory's schema is up to date (version %d)\n", sqlite.SchemaVersion())
				return nil
			}
			n, err := postgres.Migrate(cmd.Context(), pg)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "openum: the directory's schema is up to date (version %d, %d migration(s) applied)\n", postgres.SchemaVersion(), n)
			if n, err = msgpostgres.Migrate(cmd.Context(), pg); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "openum: the message store's schema is up to date (version %d, %d migration(s) applied)\n", msgpostgres.SchemaVersion(), n)
			return nil
		},
	})
	return cmd
}

// redactURL hides the password of a URL, for the audit log and errors.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// An unparsable value may still hold a password: keep only what
		// comes before any userinfo.
		if scheme, _, ok := strings.Cut(s, "://"); ok {
			return scheme + "://(unparsable)"
		}
		return s
	}
	return u.Redacted()
}

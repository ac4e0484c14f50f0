// Package cli is openum's command line: a cobra command per noun and verb,
// each a thin layer over the packages that do the work.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/ops"
)

// app is what every command shares: the global flags and the directory,
// opened on first use.
type app struct {
	dataDir string
	json    bool
	out     io.Writer
	args    []string // the command line, for the audit log
	dir     directory.Directory
	msgs    msgstore.Store

	directoryURL string    // --directory: a PostgreSQL URL, or "" for SQLite
	remote       remoteAPI // --server: the admin API the directory commands act on
}

// Main runs the openum command line with args (without the program name)
// and returns the exit status: 0 on success, 1 on any error, which is
// printed as one line on stderr.
func Main(args []string, stdout, stderr io.Writer) int {
	// sipgo reports some connection-pool conditions through slog's default
	// logger; an administrator needs to see only its errors.
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	a := &app{out: stdout, args: args}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if a.dir != nil {
		err = errors.Join(err, a.dir.Close())
	}
	if a.msgs != nil {
		err = errors.Join(err, a.msgs.Close())
	}
	if err != nil {
		fmt.Fprintf(stderr, "openum: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	return 0
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "openum",
		Short:         "openum, an open-source Unified Messaging server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	dataDefault := os.Getenv("OPENUM_DATA")
	if dataDefault == "" {
		dataDefault = "openum-data"
	}
	root.PersistentFlags().StringVar(&a.dataDir, "data", dataDefault, "data directory (env OPENUM_DATA)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print JSON")
	root.PersistentFlags().StringVar(&a.directoryURL, "directory", "", directoryFlagHelp)
	a.remote.dataDir = &a.dataDir
	a.remote.bind(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return a.remote.check(cmd) }
	root.AddCommand(
		a.dialPlanCommand(),
		a.nounCommand(ops.Gateways),
		a.nounCommand(ops.HuntGroups),
		a.nounCommand(ops.Policies),
		a.mailboxCommand(),
		a.serverCommand(),
		a.directoryCommand(),
		a.messageCommand(),
		a.auditCommand(),
		a.certCommand(),
		a.eventsCommand(),
		a.serveCommand(),
		a.testCommand(),
		a.quickstartCommand(),
		a.adminCommand(),
	)
	refuseUnknownSubcommands(root)
	return root
}

// noArgs is cobra.NoArgs with a message that says what was wrong: cobra's
// calls a stray word an unknown command ("openum message list EMAIL",
// whose mailbox is a flag).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, not %q (see %s --help)", cmd.CommandPath(), strings.Join(args, " "), cmd.CommandPath())
	}
	return nil
}

// refuseUnknownSubcommands makes "openum cert list" an error with exit
// status 1, as "openum foo" is: cobra checks the words after a group of
// commands only at the root, and below it shows the group's help, exit 0,
// whatever was typed.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		if c.HasSubCommands() && !c.Runnable() {
			if c.Annotations == nil {
				c.Annotations = remoteOK // it only shows help, here or with --server
			}
			c.DisableFlagsInUseLine = true // its help's usage: "openum cert", not "openum cert [flags]"
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unknown command %q for %q (see %s --help)", args[0], c.CommandPath(), c.CommandPath())
				}
				return c.Help()
			}
		}
		refuseUnknownSubcommands(c)
	}
}

func (a *app) snapshot(cmd *cobra.Command) (*directory.Snapshot, error) {
	dir, err := a.directory(cmd.Context())
	if err != nil {
		return nil, err
	}
	return dir.Snapshot(cmd.Context())
}

// update applies fn to the directory, recording who ran which command.
func (a *app) update(cmd *cobra.Command, fn func(*directory.Snapshot) error) ([]directory.Change, error) {
	dir, err := a.directory(cmd.Context())
	if err != nil {
		return nil, err
	}
	return dir.Update(cmd.Context(), a.actor(), fn)
}

// secretFlags never reach the audit log with their values.
var secretFlags = []string{"pin", "password"}

func (a *app) actor() directory.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return directory.Actor{User: name, Command: "openum " + strings.Join(maskSecrets(a.args), " ")}
}

// maskSecrets replaces the values of secretFlags with asterisks.
func maskSecrets(args []string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		name, value, inline := strings.Cut(strings.TrimPrefix(out[i], "--"), "=")
		if name == "directory" && strings.HasPrefix(out[i], "--") { // a URL may hold a password
			if inline {
				out[i] = "--directory=" + redactURL(value)
			} else if i+1 < len(out) {
				out[i+1] = redactURL(out[i+1])
				i++
			}
			continue
		}
		if !strings.HasPrefix(out[i], "--") || !slices.Contains(secretFlags, name) {
			continue
		}
		if inline {
			out[i] = "--" + name + "=******"
		} else if i+1 < len(out) {
			out[i+1] = "******"
			i++
		}
	}
	return out
}

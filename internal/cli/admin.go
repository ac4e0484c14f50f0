package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/admin"
	"github.com/openum/openum/internal/directory"
)

// adminCommand is openum admin: the admin API's credentials.
func (a *app) adminCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "The admin API's credentials (openum serve --admin-listen)"}
	token := &cobra.Command{Use: "token", Short: "Bearer tokens of the admin API: new, list, remove"}
	token.AddCommand(a.adminTokenNew(), a.adminTokenList(), a.adminTokenRemove())
	cmd.AddCommand(token)
	return cmd
}

func (a *app) adminTokenNew() *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "new NAME --role admin|operator|readonly",
		Short: "Make a token and print it once; the directory keeps only its hash",
		Long: `Make a random token (256 bits, "oum_" in front) for the admin API and print
it once: the directory keeps only its SHA-256, so it cannot be shown again.
A lost token is removed and replaced. Clients send it as
"Authorization: Bearer TOKEN".

Roles: readonly reads (GET) and scrapes /metrics; operator also does the
day-to-day actions; admin does everything, /debug/pprof included.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := directory.ParseEnum("--role", role, directory.AdminRoles)
			if err != nil {
				return err
			}
			tok, hash := admin.NewToken()
			t := directory.AdminToken{Name: args[0], Role: r, Created: time.Now().UTC().Truncate(time.Second), Hash: hash}
			if _, err := a.update(cmd, func(s *directory.Snapshot) error { return s.AddAdminToken(t) }); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(struct {
					directory.AdminToken
					Token string
				}{t, tok})
			}
			// The token alone on stdout, so that "> FILE" makes a file
			// --token-file, curl's $(cat FILE) and Prometheus take as it is.
			fmt.Fprintf(a.out, "%s\n", tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "# admin token %q (%s): shown this once, keep it in a file only its user reads\n", t.Name, t.Role)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "admin, operator or readonly (required)")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (a *app) adminTokenList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tokens: name, role, created (never the token or its hash)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			return printList(a, s.AdminTokens, []string{"Name", "Role", "Created"})
		},
	}
}

func (a *app) adminTokenRemove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a token: requests with it are refused within seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := a.update(cmd, func(s *directory.Snapshot) error {
				_, err := s.Remove(directory.KindAdminToken, args[0], false)
				return err
			})
			if err == nil {
				fmt.Fprintf(a.out, "removed admin token %s\n", args[0])
			}
			return err
		},
	}
}

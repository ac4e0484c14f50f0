package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
)

func (a *app) auditCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "audit",
		Short: "List every change to the directory and the message store: who, when, which command, what changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := a.directory(cmd.Context())
			if err != nil {
				return err
			}
			records, err := dir.Audit(cmd.Context())
			if err != nil {
				return err
			}
			msgs, err := a.messages(cmd.Context())
			if err != nil {
				return err
			}
			messages, err := msgs.Audit(cmd.Context())
			if err != nil {
				return err
			}
			// Two logs, each in order: one, in time order.
			records = append(records, messages...)
			slices.SortStableFunc(records, func(x, y directory.AuditRecord) int { return x.Time.Compare(y.Time) })
			return printRows(a, records, []string{"Time", "User", "Command", "Changes"}, func(r *directory.AuditRecord) []string {
				return []string{r.Time.Local().Format(time.DateTime), r.User, r.Command, summary(r.Changes)}
			})
		},
	}
}

// summary reads as "dialplan DP1 changed (VoIPSecurity); huntgroup HG1 removed".
func summary(changes []directory.Change) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = fmt.Sprintf("%s %s", c.Object, c.Action)
		if c.Action == directory.Changed {
			names := make([]string, len(c.Fields))
			for j, f := range c.Fields {
				names[j] = f.Field
			}
			parts[i] += " (" + strings.Join(names, ", ") + ")"
		}
	}
	return strings.Join(parts, "; ")
}

package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/ops"
)

func (a *app) auditCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "audit",
		Short:       "List every change to the directory and the message store: who, when, which command, what changed",
		Args:        noArgs,
		Annotations: remoteOK,
		RunE: func(cmd *cobra.Command, args []string) error {
			records, err := a.auditRecords(cmd)
			if err != nil {
				return err
			}
			return printRows(a, records, []string{"Time", "User", "Command", "Changes"}, func(r *directory.AuditRecord) []string {
				return []string{r.Time.Local().Format(time.DateTime), r.User, r.Command, summary(r.Changes)}
			})
		},
	}
}

// auditRecords are the directory's and the message store's audit logs,
// as one in time order: here, or those of --server.
func (a *app) auditRecords(cmd *cobra.Command) ([]directory.AuditRecord, error) {
	if a.remote.server != "" {
		raw, err := a.remote.get(cmd.Context(), ops.AuditPath)
		if err != nil {
			return nil, err
		}
		var records []directory.AuditRecord
		return records, json.Unmarshal(raw, &records)
	}
	dir, err := a.directory(cmd.Context())
	if err != nil {
		return nil, err
	}
	msgs, err := a.messages(cmd.Context())
	if err != nil {
		return nil, err
	}
	return ops.Audit(cmd.Context(), dir, msgs)
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

package cli

import (
	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/ops"
)

func (a *app) serverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "server", Short: ops.Servers.Short()}
	cmd.AddCommand(
		a.getCommand(ops.Servers, "Show the server records (this machine's defaults before the first set)"),
		a.setCommand(ops.Servers, "[NAME]", "Change this server's record (NAME is needed only when several servers share the directory and none is named like this host)",
			cobra.MaximumNArgs(1)),
	)
	return cmd
}

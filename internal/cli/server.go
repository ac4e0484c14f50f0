package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
)

func (a *app) serverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "server", Short: "This server's record: FQDN, dial plans, status, capacity, ports"}
	get := &cobra.Command{
		Use:   "get [NAME]",
		Short: "Show the server records (this machine's defaults before the first set)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			if len(s.Servers) == 0 {
				s.Servers = []directory.Server{directory.NewServer(directory.HostName())}
			}
			if len(args) == 1 {
				return serverNoun.show(a, s, args[0])
			}
			return printList(a, s.Servers, serverNoun.columns)
		},
	}
	set := &cobra.Command{
		Use:   "set [NAME]",
		Short: "Change this server's record (NAME is needed only when several servers share the directory and none is named like this host)",
		Args:  cobra.MaximumNArgs(1),
	}
	apply := bindFields(set, serverFields)
	rename := set.Flags().String("name", "", "the server's FQDN")
	set.RunE = func(cmd *cobra.Command, args []string) error {
		return a.change(cmd, func(s *directory.Snapshot) (string, error) {
			sv, err := setTarget(s, args)
			if err != nil {
				return "", err
			}
			pinned := sv.CertificateThumbprint
			if err := apply(sv); err != nil {
				return "", err
			}
			if *rename != "" && !directory.SameName(*rename, sv.Name) {
				if _, err := s.Server(*rename); err == nil {
					return "", &directory.ExistsError{Kind: directory.KindServer, Name: *rename}
				}
				sv.Name = *rename
			}
			if sv.CertificateThumbprint != pinned && sv.CertificateThumbprint != "" {
				tp, err := a.usableThumbprint(sv.CertificateThumbprint, sv.Name)
				if err != nil {
					return "", fmt.Errorf("--certificate-thumbprint: %w", err)
				}
				sv.CertificateThumbprint = tp
			}
			return sv.Name, nil
		}, serverNoun.show)
	}
	cmd.AddCommand(get, set)
	return cmd
}

// setTarget returns the record server set changes: the one named, else
// this machine's (directory.Snapshot.LocalServer), made on the first run.
func setTarget(s *directory.Snapshot, args []string) (*directory.Server, error) {
	if len(args) == 1 {
		return s.LocalServer(args[0])
	}
	sv, err := s.AddLocalServer("")
	if err != nil {
		return nil, fmt.Errorf("server set needs a NAME: %w", err)
	}
	return sv, nil
}

package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/ops"
)

func (a *certCLI) certGetCommand() *cobra.Command {
	return a.certFlagsCommand(ops.Get, "get [THUMBPRINT]",
		"Show the certificates of the personal store (--trusted: the trusted roots), or one",
		cobra.MaximumNArgs(1), func(cmd *cobra.Command, args []string, p ops.Params) error {
			if len(args) == 1 {
				v, err := certDo[ops.CertView](a, cmd, ops.CertRequest{Verb: ops.Get, Name: args[0], Params: p})
				if err != nil {
					return err
				}
				return a.printOne(v)
			}
			views, err := certDo[[]ops.CertView](a, cmd, ops.CertRequest{Verb: ops.List, Params: p})
			if err != nil {
				return err
			}
			if len(p["trusted"]) > 0 && p["trusted"][0] != "false" {
				return printList(a.app, *views, []string{"Thumbprint", "Subject", "NotAfter", "Kind", "Store", "Trust"})
			}
			return printList(a.app, *views, []string{"Thumbprint", "Subject", "NotAfter", "Kind", "HasPrivateKey", "Usable", "InUse"})
		})
}

func (a *certCLI) certSelectCommand() *cobra.Command {
	return a.certFlagsCommand(ops.Select, "select",
		"Show which certificate the server would use now, and why each other one lost",
		noArgs, func(cmd *cobra.Command, _ []string, p ops.Params) error {
			sel, err := certDo[certs.Selection](a, cmd, ops.CertRequest{Verb: ops.Select, Params: p})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(sel)
			}
			return a.printSelection(sel)
		})
}

// printSelection explains a selection in words.
func (a *certCLI) printSelection(sel *certs.Selection) error {
	w := a.out
	fmt.Fprintf(w, "Server FQDN: %s\n", sel.FQDN)
	if sel.Pin != "" {
		fmt.Fprintf(w, "Pinned:      %s\n", sel.Pin)
	}
	if sel.PinProblem != "" {
		fmt.Fprintf(w, "Warning:     %s; the server chooses as if nothing were pinned\n", sel.PinProblem)
	}
	if sel.Chosen != nil {
		fmt.Fprintf(w, "In use:      %s  %s  %s, expires %s\n", sel.Chosen.Thumbprint, sel.Chosen.Subject, sel.Chosen.Kind, sel.Chosen.NotAfter.UTC().Format("2006-01-02"))
		fmt.Fprintf(w, "Why:         %s\n", strings.TrimPrefix(sel.Chosen.Verdict, "chosen: "))
	} else {
		fmt.Fprintf(w, "In use:      none: no certificate is usable, so the server generates a self-signed certificate for %s when it starts in a secured mode\n", sel.FQDN)
	}
	if len(sel.Candidates) == 0 {
		fmt.Fprintln(w, "\nThe personal store is empty.")
		return nil
	}
	fmt.Fprintln(w, "\nCandidates, in the order the server prefers them:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tThumbprint\tKind\tNotAfter\tVerdict")
	for i, c := range sel.Candidates {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, c.Thumbprint, c.Kind, c.NotAfter.UTC().Format("2006-01-02"), c.Verdict)
	}
	return tw.Flush()
}

func (a *certCLI) certRemoveCommand() *cobra.Command {
	return a.certFlagsCommand(ops.Remove, "remove THUMBPRINT",
		"Remove a certificate (and its key); refused for the one in use unless --force",
		exactArgs("THUMBPRINT"), func(cmd *cobra.Command, args []string, p ops.Params) error {
			done, err := certDo[ops.CertRemoved](a, cmd, ops.CertRequest{Verb: ops.Remove, Name: args[0], Params: p})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "removed %s from the %s store\n", done.Thumbprint, strings.ToLower(string(done.Store)))
			return nil
		})
}

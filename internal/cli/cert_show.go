package cli

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/events"
)

// certView is what "cert get" shows of a certificate.
type certView struct {
	Thumbprint       string
	SHA256           string
	Subject          string
	Issuer           string
	SerialNumber     string
	NotBefore        time.Time
	NotAfter         time.Time
	DaysLeft         int
	Kind             certs.Kind
	EKU              []string
	Names            []string
	HasPrivateKey    bool
	Store            certs.Location
	Trust            certs.Trust `json:",omitempty"` // trusted store only: CA, or Pinned (admits exactly itself)
	Usable           *bool       `json:",omitempty"` // personal store only
	NotUsableBecause []string    `json:",omitempty"`
	InUse            bool        `json:",omitempty"`
}

func newCertView(c *certs.Certificate, st *certs.Status, inUse bool, now time.Time) certView {
	x := c.X509
	v := certView{
		Thumbprint:    c.Thumbprint(),
		SHA256:        c.SHA256(),
		Subject:       x.Subject.String(),
		Issuer:        x.Issuer.String(),
		SerialNumber:  certs.SerialNumber(x),
		NotBefore:     x.NotBefore.UTC(),
		NotAfter:      x.NotAfter.UTC(),
		DaysLeft:      certs.DaysLeft(x, now),
		Kind:          certs.KindOf(x),
		EKU:           certs.EKUs(x),
		Names:         certs.Names(x),
		HasPrivateKey: c.Key != nil,
		Store:         c.Location,
		Trust:         c.Trust,
		InUse:         inUse,
	}
	if len(v.EKU) == 0 {
		v.EKU = []string{"any (no EKU extension)"}
	}
	if st != nil {
		v.Usable = &st.Usable
		v.NotUsableBecause = st.Reasons
	}
	return v
}

func (a *certCLI) certGetCommand() *cobra.Command {
	var trusted bool
	cmd := &cobra.Command{
		Use:   "get [THUMBPRINT]",
		Short: "Show the certificates of the personal store (--trusted: the trusted roots), or one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return a.showCert(cmd, args[0], trusted)
			}
			_, c, sel, err := a.certSelection(cmd)
			if err != nil {
				return err
			}
			now := time.Now()
			var views []certView
			if trusted {
				for _, t := range append(slices.Clone(c.Trusted), c.Intermediates...) {
					views = append(views, newCertView(t, nil, false, now))
				}
				return printList(a.app, views, []string{"Thumbprint", "Subject", "NotAfter", "Kind", "Store", "Trust"})
			}
			for _, cand := range sel.Candidates {
				views = append(views, newCertView(cand.Certificate, &cand.Status, cand == sel.Chosen, now))
			}
			return printList(a.app, views, []string{"Thumbprint", "Subject", "NotAfter", "Kind", "HasPrivateKey", "Usable", "InUse"})
		},
	}
	cmd.Flags().BoolVar(&trusted, "trusted", false, "the trusted root store and intermediate CAs")
	return cmd
}

// showCert prints one certificate of any part of the store.
func (a *certCLI) showCert(cmd *cobra.Command, thumbprint string, trusted bool) error {
	tp, err := certs.ParseThumbprint(thumbprint)
	if err != nil {
		return err
	}
	_, c, sel, err := a.certSelection(cmd)
	if err != nil {
		return err
	}
	for _, cand := range sel.Candidates {
		if cand.Thumbprint == tp && !trusted {
			return a.printOne(newCertView(cand.Certificate, &cand.Status, cand == sel.Chosen, time.Now()))
		}
	}
	for _, t := range append(slices.Clone(c.Trusted), c.Intermediates...) {
		if t.Thumbprint() == tp {
			return a.printOne(newCertView(t, nil, false, time.Now()))
		}
	}
	return &certs.NotFoundError{Thumbprint: tp}
}

func (a *certCLI) certSelectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "select",
		Short: "Show which certificate the server would use now, and why each other one lost",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _, sel, err := a.certSelection(cmd)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(sel)
			}
			return a.printSelection(sel)
		},
	}
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
	var trusted, force bool
	cmd := &cobra.Command{
		Use:   "remove THUMBPRINT",
		Short: "Remove a certificate (and its key); refused for the one in use unless --force",
		Args:  exactArgs("THUMBPRINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tp, err := certs.ParseThumbprint(args[0])
			if err != nil {
				return err
			}
			store, c, sel, err := a.certSelection(cmd)
			if err != nil {
				return err
			}
			loc := certs.Personal
			if trusted {
				loc = certs.Trusted
				if t := c.Find(tp); t != nil && t.Location == certs.Intermediate {
					loc = certs.Intermediate
				}
			}
			cert := c.Find(tp)
			if cert == nil || cert.Location != loc {
				return &certs.NotFoundError{Thumbprint: tp, Location: loc}
			}
			if !force {
				if err := inUse(sel, tp, loc); err != nil {
					return err
				}
			}
			if err := store.Remove(loc, tp); err != nil {
				return err
			}
			if err := a.emit(cmd, events.CertificateStoreChanged, fmt.Sprintf("A certificate was removed from the %s store.", strings.ToLower(string(loc))), certEventAttrs(cert)...); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "removed %s from the %s store\n", tp, strings.ToLower(string(loc)))
			return nil
		},
	}
	cmd.Flags().BoolVar(&trusted, "trusted", false, "remove from the trusted root store (or the intermediate CAs)")
	cmd.Flags().BoolVar(&force, "force", false, "remove even the certificate in use, or the root it chains to")
	return cmd
}

// inUse refuses the removal of what the server's TLS depends on: the
// certificate in use or pinned, or a CA its chain goes through.
func inUse(sel *certs.Selection, tp string, loc certs.Location) error {
	if loc == certs.Personal {
		if sel.Chosen != nil && sel.Chosen.Thumbprint == tp {
			return fmt.Errorf("certificate %s is the one in use: remove it with --force, after importing another", tp)
		}
		if sel.Pin == tp {
			return fmt.Errorf("certificate %s is pinned (server set --certificate-thumbprint): unpin it first, or use --force", tp)
		}
		return nil
	}
	if sel.Chosen != nil {
		for _, ca := range sel.Chosen.Chain {
			if certs.Thumbprint(ca) == tp {
				return fmt.Errorf("the certificate in use (%s) chains through %s: remove it with --force", sel.Chosen.Thumbprint, tp)
			}
		}
	}
	return nil
}

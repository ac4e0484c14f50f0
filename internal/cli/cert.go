package cli

import (
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// certCLI is what the cert commands share: the app and --server.
type certCLI struct {
	*app
	server string // the server record named by --server
}

// certCommand is "openum cert": the certificate store (SPEC CERT-1..CERT-5).
func (app *app) certCommand() *cobra.Command {
	a := &certCLI{app: app}
	cmd := &cobra.Command{Use: "cert", Short: "Certificates: the server's own, trusted roots, requests, selection"}
	cmd.PersistentFlags().StringVar(&a.server, "server", "", "the server record whose FQDN and pin apply (needed only when several servers share the directory)")
	cmd.AddCommand(
		a.certNewSelfSignedCommand(),
		a.certRequestCommand(),
		a.certImportCommand(),
		a.certExportCommand(),
		a.certGetCommand(),
		a.certSelectCommand(),
		a.certRemoveCommand(),
	)
	return cmd
}

// certStore opens DATA/certs, creating the data directory if needed.
func (a *app) certStore() (*certs.Store, error) {
	if err := os.MkdirAll(a.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return certs.OpenStore(filepath.Join(a.dataDir, "certs"))
}

// loadStore opens DATA/certs and reads what it holds.
func (a *app) loadStore() (*certs.Store, *certs.Contents, error) {
	store, err := a.certStore()
	if err != nil {
		return nil, nil, err
	}
	c, err := store.Load()
	if err != nil {
		return nil, nil, err
	}
	return store, c, nil
}

// emit records a change to the store in DATA/events.log.
func (a *certCLI) emit(cmd *cobra.Command, id events.EventID, msg string, attrs ...slog.Attr) error {
	log, err := events.Open(filepath.Join(a.dataDir, "events.log"))
	if err != nil {
		return err
	}
	log.Emit(cmd.Context(), id, msg, append(attrs, slog.String("Command", "openum "+strings.Join(maskSecrets(a.args), " ")))...)
	return log.Close()
}

// certIdentity returns the FQDN a certificate must name and the pinned
// thumbprint, from the server record (--server, else the only one, else
// this host's name, before the first "server set").
func (a *certCLI) certIdentity(cmd *cobra.Command) (fqdn, pin string, err error) {
	s, err := a.snapshot(cmd)
	if err != nil {
		return "", "", err
	}
	if a.server == "" && len(s.Servers) == 0 {
		return directory.HostName(), "", nil
	}
	sv, err := s.LocalServer(a.server)
	if err != nil && a.server == "" {
		return "", "", fmt.Errorf("%w: say which with --server NAME", err)
	}
	if err != nil {
		return "", "", err
	}
	return sv.Name, sv.CertificateThumbprint, nil
}

// certSelection loads the store and runs the selection for this server.
func (a *certCLI) certSelection(cmd *cobra.Command) (*certs.Store, *certs.Contents, *certs.Selection, error) {
	fqdn, pin, err := a.certIdentity(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	store, c, err := a.loadStore()
	if err != nil {
		return nil, nil, nil, err
	}
	return store, c, certs.Select(c, certs.Policy{FQDN: fqdn, Pin: pin, Now: time.Now()}), nil
}

// usableIn returns a check that a thumbprint an administrator pins names
// a usable certificate for fqdn in the personal store of the data
// directory dataDir; it returns the thumbprint in canonical form.
func usableIn(dataDir string) func(thumbprint, fqdn string) (string, error) {
	return func(thumbprint, fqdn string) (string, error) {
		tp, err := certs.ParseThumbprint(thumbprint)
		if err != nil {
			return "", err
		}
		_, c, err := (&app{dataDir: dataDir}).loadStore()
		if err != nil {
			return "", err
		}
		cert := c.Find(tp)
		if cert == nil || cert.Location != certs.Personal {
			return "", &certs.NotFoundError{Thumbprint: tp, Location: certs.Personal}
		}
		if st := certs.Evaluate(c, cert, fqdn, time.Now()); !st.Usable {
			return "", fmt.Errorf("certificate %s is not usable: %s", tp, strings.Join(st.Reasons, "; "))
		}
		return tp, nil
	}
}

// newKeyFlags are the flags of new-self-signed and request: a new key's
// type and the names its certificate or request is for.
type newKeyFlags struct {
	fqdn, keyType string
	sans          []string
}

func (k *newKeyFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.fqdn, "fqdn", "", "the server's FQDN (default: the server record's name)")
	f.StringArrayVar(&k.sans, "san", nil, "a further DNS name or IP address (repeat for several)")
	f.StringVar(&k.keyType, "key-type", "ecdsa-p256", "rsa2048|rsa3072|ecdsa-p256")
}

// keyAndName reads --key-type, and --fqdn with the server record's name as
// its default: what a new key and its certificate or request are for.
func (a *certCLI) keyAndName(cmd *cobra.Command, k newKeyFlags) (certs.KeyType, string, error) {
	kt, err := certs.ParseKeyType(k.keyType)
	if err != nil || k.fqdn != "" {
		return kt, k.fqdn, err
	}
	fqdn, _, err := a.certIdentity(cmd)
	return kt, fqdn, err
}

func (a *certCLI) certNewSelfSignedCommand() *cobra.Command {
	var k newKeyFlags
	var days int
	cmd := &cobra.Command{
		Use:   "new-self-signed",
		Short: "Generate a key and a self-signed certificate for the server (subject = issuer = the FQDN, EKU serverAuth and clientAuth)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if days < 0 {
				return fmt.Errorf("--days must be positive")
			}
			kt, fqdn, err := a.keyAndName(cmd, k)
			if err != nil {
				return err
			}
			store, err := a.certStore()
			if err != nil {
				return err
			}
			c, err := store.NewSelfSigned(certs.SelfSignedOptions{FQDN: fqdn, SANs: k.sans, KeyType: kt, Validity: time.Duration(days) * 24 * time.Hour})
			if err != nil {
				return err
			}
			if err := a.emit(cmd, events.CertificateStoreChanged, "A self-signed certificate was generated into the personal store.", certEventAttrs(c)...); err != nil {
				return err
			}
			return a.showCert(cmd, c.Thumbprint(), false)
		},
	}
	k.bind(cmd)
	cmd.Flags().IntVar(&days, "days", 0, "validity in days (default: 5 years)")
	return cmd
}

func (a *certCLI) certRequestCommand() *cobra.Command {
	var k newKeyFlags
	var out string
	var der bool
	cmd := &cobra.Command{
		Use:   "request --out FILE.csr",
		Short: "Generate a key, kept in the store as pending, and a PKCS#10 certificate request for a CA",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			kt, fqdn, err := a.keyAndName(cmd, k)
			if err != nil {
				return err
			}
			err = a.writeFromStore(out, 0o644, func(store *certs.Store) ([]byte, error) {
				csr, err := store.NewRequest(certs.RequestOptions{FQDN: fqdn, SANs: k.sans, KeyType: kt})
				if err != nil || der {
					return csr, err
				}
				return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "wrote a certificate request for %s to %s\n", fqdn, out)
			fmt.Fprintln(a.out, "its key waits in the store: import the certificate the CA issues with openum cert import")
			return nil
		},
	}
	k.bind(cmd)
	cmd.Flags().StringVar(&out, "out", "", "the request file to write (required)")
	cmd.Flags().BoolVar(&der, "der", false, "write DER instead of PEM")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// writeFromStore writes to the file out, mode perm, what produce makes
// from the store. A missing directory for out fails first, before produce
// changes the store (a request keeps its key there); out is written whole
// or not at all.
func (a *certCLI) writeFromStore(out string, perm os.FileMode, produce func(*certs.Store) ([]byte, error)) error {
	if out == "" {
		return fmt.Errorf("--out is required")
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return fmt.Errorf("--out: directory %s does not exist", filepath.Dir(out))
	}
	store, err := a.certStore()
	if err != nil {
		return err
	}
	data, err := produce(store)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, data, perm)
}

func (a *certCLI) certImportCommand() *cobra.Command {
	var password string
	var trusted, ca, pinned bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import certificates: PEM (certificate, chain and key in any order), DER or PKCS#12/PFX",
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := trustFlags(trusted, ca, pinned)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			store, err := a.certStore()
			if err != nil {
				return err
			}
			var res *certs.ImportResult
			if trusted {
				res, err = store.ImportTrusted(data, password, as)
			} else {
				res, err = store.Import(data, password, false)
			}
			if err != nil {
				return err
			}
			for _, c := range res.Added {
				if err := a.emit(cmd, events.CertificateStoreChanged, fmt.Sprintf("A certificate was imported into the %s store.", strings.ToLower(string(c.Location))), certEventAttrs(c)...); err != nil {
					return err
				}
			}
			if a.json {
				views := make([]certView, len(res.Added))
				for i, c := range res.Added {
					views[i] = newCertView(c, nil, false, time.Now())
				}
				return a.printJSON(struct {
					Added []certView
					Notes []string
				}{views, res.Notes})
			}
			for _, c := range res.Added {
				fmt.Fprintf(a.out, "imported %s into the %s store%s: %s\n", c.Thumbprint(), strings.ToLower(string(c.Location)), trustWords(c.Trust), c.X509.Subject)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(a.out, n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&password, "password", "", "the PKCS#12/PFX password")
	cmd.Flags().BoolVar(&trusted, "trusted", false, "put CA or self-signed certificates into the trusted root store (as a CA when it looks like one, else pinned)")
	cmd.Flags().BoolVar(&ca, "ca", false, "with --trusted: trust it as a certificate authority, which may issue peer certificates")
	cmd.Flags().BoolVar(&pinned, "pinned", false, "with --trusted: trust it as exactly one peer's certificate, which issues none")
	return cmd
}

func (a *certCLI) certExportCommand() *cobra.Command {
	var out, format, password string
	cmd := &cobra.Command{
		Use:   "export THUMBPRINT --out FILE",
		Short: "Export a certificate: the public certificate (PEM or DER) for gateways, or PFX with its key",
		Args:  exactArgs("THUMBPRINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tp, err := certs.ParseThumbprint(args[0])
			if err != nil {
				return err
			}
			f, err := certs.ParseFormat(format)
			if err != nil {
				return err
			}
			perm := os.FileMode(0o644)
			if f == certs.FormatPFX {
				perm = 0o600 // it holds the private key
			}
			err = a.writeFromStore(out, perm, func(store *certs.Store) ([]byte, error) {
				return store.Export(tp, f, password)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "exported %s to %s (%s)\n", tp, out, f)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the file to write (required)")
	cmd.Flags().StringVar(&format, "format", "pem", "pem|der|pfx (pfx includes the private key)")
	cmd.Flags().StringVar(&password, "password", "", "the PFX password (required for pfx)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func certEventAttrs(c *certs.Certificate) []slog.Attr {
	return []slog.Attr{
		slog.String("Thumbprint", c.Thumbprint()),
		slog.String("SHA256", c.SHA256()),
		slog.String("Subject", c.X509.Subject.String()),
		slog.String("Issuer", c.X509.Issuer.String()),
		slog.String("SerialNumber", certs.SerialNumber(c.X509)),
	}
}

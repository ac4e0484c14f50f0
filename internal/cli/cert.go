package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/ops"
)

// The cert commands are the certificate store's operations (ops.DoCert):
// each collects its flags into an ops.CertRequest and runs it here, or on
// --server's admin API, and prints what it returns alike.

// certCLI is what the cert commands share: the app and --server-name.
type certCLI struct {
	*app
	server string // the server record named by --server-name
}

// certCommand is "openum cert": the certificate store (SPEC CERT-1..CERT-5).
func (app *app) certCommand() *cobra.Command {
	a := &certCLI{app: app}
	cmd := &cobra.Command{Use: "cert", Short: "Certificates: the server's own, trusted roots, requests, selection"}
	cmd.PersistentFlags().StringVar(&a.server, "server-name", "", "the server record whose FQDN and pin apply (needed only when several servers share the directory)")
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

// certDo runs r on the local store, or on --server's, and returns what it
// answers as a T: a remote answer is decoded into the type the local
// operation returns, so that both print alike.
func certDo[T any](a *certCLI, cmd *cobra.Command, r ops.CertRequest) (*T, error) {
	var out T
	if a.remote.server != "" {
		method, path, params := r.Route()
		var body []byte
		if params != nil {
			var err error
			if body, err = json.Marshal(params); err != nil {
				return nil, err
			}
		}
		raw, err := a.remote.do(cmd.Context(), method, path, body)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("--server: the answer to cert %s: %w", r.Verb, err)
		}
		return &out, nil
	}
	v, err := a.certLocal(cmd.Context(), r)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case *T:
		return v, nil
	case T:
		return &v, nil
	}
	return nil, fmt.Errorf("cli: cert %s answered a %T", r.Verb, v)
}

// certLocal runs r on DATA/certs; a change is recorded in DATA/events.log.
func (a *certCLI) certLocal(ctx context.Context, r ops.CertRequest) (any, error) {
	store, err := a.certStore()
	if err != nil {
		return nil, err
	}
	dir, err := a.directory(ctx)
	if err != nil {
		return nil, err
	}
	env := ops.CertEnv{Store: store, Directory: dir, Server: a.server, Actor: a.actor()}
	if r.Role() == directory.RoleAdmin { // a change, which the log records
		if env.Events, err = events.Open(filepath.Join(a.dataDir, "events.log")); err != nil {
			return nil, err
		}
		defer env.Events.Close()
	}
	return ops.DoCert(ctx, env, r)
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

// certFlagsCommand is a cert command whose flags are verb's parameters:
// run gets them collected.
func (a *certCLI) certFlagsCommand(verb ops.Verb, use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string, p ops.Params) error) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, Annotations: remoteOK}
	params := bindParams(cmd, ops.CertParams(verb))
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd, args, params()) }
	return cmd
}

func (a *certCLI) certNewSelfSignedCommand() *cobra.Command {
	return a.certFlagsCommand(ops.NewSelfSigned, "new-self-signed",
		"Generate a key and a self-signed certificate for the server (subject = issuer = the FQDN, EKU serverAuth and clientAuth)",
		noArgs, func(cmd *cobra.Command, _ []string, p ops.Params) error {
			v, err := certDo[ops.CertView](a, cmd, ops.CertRequest{Verb: ops.NewSelfSigned, Params: p})
			if err != nil {
				return err
			}
			return a.printOne(v)
		})
}

func (a *certCLI) certRequestCommand() *cobra.Command {
	var out string
	cmd := a.certFlagsCommand(ops.MakeRequest, "request --out FILE.csr",
		"Generate a key, kept in the store as pending, and a PKCS#10 certificate request for a CA",
		noArgs, func(cmd *cobra.Command, _ []string, p ops.Params) error {
			f, err := writeFrom(a, cmd, out, 0o644, ops.CertRequest{Verb: ops.MakeRequest, Params: p})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "wrote a certificate request for %s to %s\n", f.FQDN, out)
			fmt.Fprintln(a.out, "its key waits in the store: import the certificate the CA issues with openum cert import")
			return nil
		})
	cmd.Flags().StringVar(&out, "out", "", "the request file to write (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// writeFrom runs r, whose answer is a file, and writes it to out, mode
// perm. A missing directory for out fails first, before r changes the
// store (a request keeps its key there); out is written whole or not at
// all.
func writeFrom(a *certCLI, cmd *cobra.Command, out string, perm os.FileMode, r ops.CertRequest) (*ops.CertFile, error) {
	if out == "" {
		return nil, fmt.Errorf("--out is required")
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--out: directory %s does not exist", filepath.Dir(out))
	}
	f, err := certDo[ops.CertFile](a, cmd, r)
	if err != nil {
		return nil, err
	}
	return f, atomicfile.WriteFile(out, f.Data, perm)
}

func (a *certCLI) certImportCommand() *cobra.Command {
	return a.certFlagsCommand(ops.Import, "import FILE",
		"Import certificates: PEM (certificate, chain and key in any order), DER or PKCS#12/PFX",
		exactArgs("FILE"), func(cmd *cobra.Command, args []string, p ops.Params) error {
			if _, given := p["certificate"]; given {
				return fmt.Errorf("cert import reads the certificate from FILE, not --certificate")
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			p["certificate"] = []string{ops.EncodeCertData(data)}
			res, err := certDo[ops.CertImported](a, cmd, ops.CertRequest{Verb: ops.Import, Params: p})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(res)
			}
			for _, c := range res.Added {
				fmt.Fprintf(a.out, "imported %s into the %s store%s: %s\n", c.Thumbprint, strings.ToLower(string(c.Store)), trustWords(c.Trust), c.Subject)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(a.out, n)
			}
			return nil
		})
}

func (a *certCLI) certExportCommand() *cobra.Command {
	var out string
	cmd := a.certFlagsCommand(ops.Export, "export THUMBPRINT --out FILE",
		"Export a certificate: the public certificate (PEM or DER) for gateways, or PFX with its key",
		exactArgs("THUMBPRINT"), func(cmd *cobra.Command, args []string, p ops.Params) error {
			perm := os.FileMode(0o644)
			if v := p["format"]; len(v) > 0 && isPFX(v[len(v)-1]) {
				perm = 0o600 // it holds the private key
			}
			f, err := writeFrom(a, cmd, out, perm, ops.CertRequest{Verb: ops.Export, Name: args[0], Params: p})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "exported %s to %s (%s)\n", f.Thumbprint, out, f.Format)
			return nil
		})
	cmd.Flags().StringVar(&out, "out", "", "the file to write (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func isPFX(format string) bool {
	f, err := certs.ParseFormat(format)
	return err == nil && f == certs.FormatPFX
}

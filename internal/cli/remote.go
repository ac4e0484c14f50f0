package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/ops"
)

// remoteAPI is the admin API of another server that the directory
// commands act on with --server, in place of the local directory.
type remoteAPI struct {
	server, tokenFile, ca string
	dataDir               *string // --data, whose certificate store's trusted roots are trusted without --ca

	client *http.Client
	token  string
}

func (r *remoteAPI) bind(f *pflag.FlagSet) {
	f.StringVar(&r.server, "server", "", "act on the server whose admin API is at https://HOST:PORT instead of the local directory (with --token-file)")
	f.StringVar(&r.tokenFile, "token-file", "", "with --server: the file holding the admin token (readable by its owner only)")
	f.StringVar(&r.ca, "ca", "", "with --server: trust the admin API's certificate by this CA file (PEM), not the local certificate store's trusted roots")
	// cert import has a --ca of its own (trust as a CA), which hides this
	// one there.
	f.StringVar(&r.ca, "server-ca", "", "with --server: the same as --ca, for cert import, whose --ca says how a certificate is trusted")
}

// check refuses, before a command runs, --server on a command that works
// only on the local directory, and the remote flags without --server.
func (r *remoteAPI) check(cmd *cobra.Command) error {
	if r.server == "" {
		if r.tokenFile != "" || r.ca != "" {
			return errors.New("--token-file and --ca (--server-ca) go with --server")
		}
		return nil
	}
	if cmd.Annotations["remote"] != "yes" {
		return fmt.Errorf("%s works on the local directory only: run it on the server, without --server", cmd.CommandPath())
	}
	return nil
}

// connect reads the token and makes the HTTPS client, once.
func (r *remoteAPI) connect() error {
	if r.client != nil {
		return nil
	}
	u, err := url.Parse(r.server)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("--server must be https://HOST:PORT, not %q", r.server)
	}
	r.server = "https://" + u.Host
	if r.token, err = readToken(r.tokenFile); err != nil {
		return err
	}
	roots, err := r.roots()
	if err != nil {
		return err
	}
	r.client = &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}},
		// A redirect would carry the token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return nil
}

// readToken reads the token of file, which only its owner may read: a
// token is a password.
func readToken(file string) (string, error) {
	if file == "" {
		return "", errors.New("--server needs --token-file FILE, the file holding an admin token")
	}
	info, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("--token-file %s is readable by others (mode %04o): it holds a password; chmod 600 it", file, perm)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("--token-file %s must hold one token (as admin token new prints it)", file)
	}
	return token, nil
}

// roots are the CAs the admin API's certificate must chain to: --ca's,
// else the local certificate store's trusted roots if it has any, else
// the system's.
func (r *remoteAPI) roots() (*x509.CertPool, error) {
	if r.ca != "" {
		pem, err := os.ReadFile(r.ca)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s holds no PEM certificate", r.ca)
		}
		return pool, nil
	}
	dir := filepath.Join(*r.dataDir, "certs")
	if _, err := os.Stat(dir); err != nil {
		return nil, nil // no local store: the system's roots
	}
	store, err := certs.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	c, err := store.Load()
	if err != nil {
		return nil, err
	}
	if len(c.Trusted) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	for _, t := range c.Trusted {
		pool.AddCert(t.X509)
	}
	return pool, nil
}

// call sends req to the admin API and returns the JSON it answers.
func (r *remoteAPI) call(ctx context.Context, req ops.Request) (json.RawMessage, error) {
	method, path := req.Route()
	var body []byte
	if method == "POST" || method == "PATCH" {
		var err error
		if body, err = json.Marshal(req.Params); err != nil {
			return nil, err
		}
	}
	return r.do(ctx, method, path, body)
}

// get returns the JSON of GET path.
func (r *remoteAPI) get(ctx context.Context, path string) (json.RawMessage, error) {
	return r.do(ctx, "GET", path, nil)
}

func (r *remoteAPI) do(ctx context.Context, method, path string, body []byte) (json.RawMessage, error) {
	if err := r.connect(); err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, method, r.server+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+r.token)
	hr.Header.Set("Content-Type", "application/json")
	res, err := r.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	if res.StatusCode/100 == 2 {
		return raw, nil
	}
	var refusal struct{ Error string }
	if json.Unmarshal(raw, &refusal) == nil && refusal.Error != "" {
		return nil, errors.New(refusal.Error)
	}
	if res.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("--server %s refused the token of --token-file (%s)", r.server, res.Status)
	}
	return nil, fmt.Errorf("--server %s answered %s", r.server, res.Status)
}

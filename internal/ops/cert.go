package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// The certificate store's operations (SPEC CERT-1..CERT-5), shared by
// openum cert and the admin API (/api/v1/cert, cert_route.go). They read
// the server record for the FQDN a certificate must name and the pin, and
// record each change to the store as event 9108 with the actor: the store
// keeps files, not the directory's audit log.

// The certificate verbs besides List, Get and Remove.
const (
	Select        Verb = "select"          // which certificate the server uses, and why
	NewSelfSigned Verb = "new-self-signed" // a key and a self-signed certificate
	MakeRequest   Verb = "request"         // a key kept pending and a PKCS#10 request
	Import        Verb = "import"          // certificates (and a key) into the store
	Export        Verb = "export"          // a certificate, public unless PFX
)

// CertVerbs are the certificate verbs, in the order the API's routes are made.
var CertVerbs = []Verb{List, Select, Get, NewSelfSigned, MakeRequest, Import, Export, Remove}

// CertEnv is what a CertRequest runs against and on whose behalf.
type CertEnv struct {
	Store     *certs.Store
	Directory directory.Directory // the server record: the FQDN and the pin
	// Server names the server record; "" for the only one (or, before the
	// first server set, this host's name).
	Server string
	Events *events.Log     // each change to the store, as 9108
	Actor  directory.Actor // named in the change's event
	// Remote is a request over the admin API: no private key leaves the
	// server that way.
	Remote bool
}

// CertRequest is one operation on the certificate store. Name is the
// certificate's thumbprint for Get, Export and Remove.
type CertRequest struct {
	Verb   Verb
	Name   string
	Params Params
}

var (
	trustedParam = Param{"trusted", "bool", "the trusted root store and intermediate CAs, not the personal store"}
	newKeyParams = []Param{
		{"fqdn", "string", "the server's FQDN (default: the server record's name)"},
		{"san", "list", "a further DNS name or IP address (repeat for several)"},
		{"key-type", "string", "rsa2048|rsa3072|ecdsa-p256 (default ecdsa-p256)"},
	}
)

// certParams are the parameters of each certificate verb.
var certParams = map[Verb][]Param{
	List:          {trustedParam},
	Select:        {},
	Get:           {trustedParam},
	NewSelfSigned: append(slices.Clone(newKeyParams), Param{"days", "int", "validity in days (default: 5 years)"}),
	MakeRequest:   append(slices.Clone(newKeyParams), Param{"der", "bool", "DER instead of PEM"}),
	Import: {
		{"certificate", "string", "the file's content: PEM text, or DER or PKCS#12/PFX in base64"},
		{"password", "string", "the PKCS#12/PFX password"},
		{"trusted", "bool", "into the trusted root store (as a CA when it looks like one, else pinned)"},
		{"ca", "bool", "with trusted: as a certificate authority, which may issue peer certificates"},
		{"pinned", "bool", "with trusted: as exactly one peer's certificate, which issues none"},
	},
	Export: {
		{"format", "string", "pem|der|pfx (pfx includes the private key)"},
		{"password", "string", "the PFX password (required for pfx)"},
	},
	Remove: {trustedParam, {"force", "bool", "remove even the certificate in use, or the root it chains to"}},
}

// CertParams returns the parameters of a certificate verb.
func CertParams(v Verb) []Param { return certParams[v] }

// Role is the least role that may run r over the admin API: readonly
// reads the store and exports public certificates, admin changes it.
func (r CertRequest) Role() directory.AdminRole {
	switch r.Verb {
	case List, Get, Select, Export:
		return directory.RoleReadonly
	}
	return directory.RoleAdmin
}

// Command is r written as the command line would, the password masked and
// a certificate's content left out, for the event of a change.
func (r CertRequest) Command() string {
	p := r.Params
	if _, ok := p["certificate"]; ok {
		p = omit(p, "certificate")
	}
	return commandLine("cert", string(r.Verb), r.Name, certParams[r.Verb], p, false)
}

// DoCert runs r: it checks r's parameters, makes at most one change to the
// store, records it, and returns what the operation shows: a *CertView or
// []CertView, a *certs.Selection, a *CertImported, a *CertFile or a
// *CertRemoved.
func DoCert(ctx context.Context, env CertEnv, r CertRequest) (any, error) {
	params, ok := certParams[r.Verb]
	if !ok {
		return nil, refused(fmt.Errorf("ops: cert has no %s operation", r.Verb))
	}
	for name := range r.Params {
		if !slices.ContainsFunc(params, func(p Param) bool { return p.Name == name }) {
			return nil, refused(&ParamError{Param: name, Err: fmt.Errorf("cert %s takes no such parameter", r.Verb)})
		}
	}
	if (r.Verb == Get || r.Verb == Export || r.Verb == Remove) && r.Name == "" {
		return nil, refused(fmt.Errorf("ops: cert %s needs the certificate's thumbprint", r.Verb))
	}
	out, err := doCert(ctx, env, r)
	return out, certRefusal(err)
}

func doCert(ctx context.Context, env CertEnv, r CertRequest) (any, error) {
	p := r.Params
	switch r.Verb {
	case NewSelfSigned, MakeRequest:
		return newKey(ctx, env, r)
	case Import:
		return importCerts(ctx, env, r)
	case Export:
		return exportCert(env, r.Name, p)
	}
	sel, c, err := selection(ctx, env)
	if err != nil {
		return nil, err
	}
	trusted, err := boolParam(p, "trusted")
	if err != nil {
		return nil, err
	}
	switch r.Verb {
	case Select:
		return sel, nil
	case List:
		return listCerts(c, sel, trusted), nil
	case Get:
		return getCert(c, sel, r.Name, trusted)
	}
	return removeCert(ctx, env, r, c, sel, trusted)
}

// certRefusal marks err a refusal unless the store's files failed: a
// certificate that does not parse, a wrong password, a name not valid are
// the client's; a disk that fails is the server's.
func certRefusal(err error) error {
	var path *fs.PathError
	if err == nil || errors.As(err, &path) {
		return err
	}
	return refused(err)
}

// selection reads the store and runs the selection for the server record.
func selection(ctx context.Context, env CertEnv) (*certs.Selection, *certs.Contents, error) {
	fqdn, pin, err := certIdentity(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	c, err := env.Store.Load()
	if err != nil {
		return nil, nil, err
	}
	return certs.Select(c, certs.Policy{FQDN: fqdn, Pin: pin, Now: time.Now()}), c, nil
}

// certIdentity returns the FQDN a certificate must name and the pinned
// thumbprint, from the server record (env.Server, else the only one, else
// this host's name, before the first "server set").
func certIdentity(ctx context.Context, env CertEnv) (fqdn, pin string, err error) {
	s, err := env.Directory.Snapshot(ctx)
	if err != nil {
		return "", "", err
	}
	if env.Server == "" && len(s.Servers) == 0 {
		return directory.HostName(), "", nil
	}
	sv, err := s.LocalServer(env.Server)
	if err != nil && env.Server == "" {
		return "", "", refused(fmt.Errorf("%w: say which with --server NAME", err))
	}
	if err != nil {
		return "", "", refused(err)
	}
	return sv.Name, sv.CertificateThumbprint, nil
}

// emit records a change to the store, with who asked and how.
func emit(ctx context.Context, env CertEnv, msg string, c *certs.Certificate) {
	env.Events.Emit(ctx, events.CertificateStoreChanged, msg, append(certAttrs(c),
		slog.String("User", env.Actor.User), slog.String("Command", env.Actor.Command))...)
}

func certAttrs(c *certs.Certificate) []slog.Attr {
	return []slog.Attr{
		slog.String("Thumbprint", c.Thumbprint()),
		slog.String("SHA256", c.SHA256()),
		slog.String("Subject", c.X509.Subject.String()),
		slog.String("Issuer", c.X509.Issuer.String()),
		slog.String("SerialNumber", certs.SerialNumber(c.X509)),
	}
}

// boolParam reads a true/false parameter; absent is false.
func boolParam(p Params, name string) (bool, error) {
	v := p[name]
	if len(v) == 0 {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(last(v))) {
	case "true", "1", "":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, &ParamError{Param: name, Err: fmt.Errorf("%q is not true or false", last(v))}
}

// stringParam reads a parameter's last value, trimmed; absent is "".
func stringParam(p Params, name string) string {
	if v := p[name]; len(v) > 0 {
		return strings.TrimSpace(last(v))
	}
	return ""
}

// omit returns p without the parameters named.
func omit(p Params, without ...string) Params {
	out := Params{}
	for k, v := range p {
		if !slices.Contains(without, k) {
			out[k] = v
		}
	}
	return out
}

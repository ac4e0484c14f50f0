package ops

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openum/openum/internal/certs"
)

// CertView is what the store shows of a certificate: never its key.
type CertView struct {
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

// NewCertView shows c, with its status in the selection when it is a
// candidate.
func NewCertView(c *certs.Certificate, st *certs.Status, inUse bool, now time.Time) CertView {
	x := c.X509
	v := CertView{
		Thumbprint: c.Thumbprint(), SHA256: c.SHA256(),
		Subject: x.Subject.String(), Issuer: x.Issuer.String(), SerialNumber: certs.SerialNumber(x),
		NotBefore: x.NotBefore.UTC(), NotAfter: x.NotAfter.UTC(), DaysLeft: certs.DaysLeft(x, now),
		Kind: certs.KindOf(x), EKU: certs.EKUs(x), Names: certs.Names(x),
		HasPrivateKey: c.Key != nil, Store: c.Location, Trust: c.Trust, InUse: inUse,
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

// CertImported is what an import added, and notes on what it skipped.
type CertImported struct {
	Added []CertView
	Notes []string
}

// CertFile is a file the store made: a certificate request, or an
// exported certificate. Data is base64 in JSON.
type CertFile struct {
	Thumbprint string `json:",omitempty"`
	FQDN       string `json:",omitempty"`
	Format     certs.Format
	Data       []byte
}

// CertRemoved is what a removal took away.
type CertRemoved struct {
	Thumbprint string
	Store      certs.Location
}

// errKeyOverAPI refuses to export a private key over the admin API.
var errKeyOverAPI = errors.New("a private key is not exported over the admin API, where it would cross the network and live in a client's memory: run openum cert export --format pfx on the server")

func listCerts(c *certs.Contents, sel *certs.Selection, trusted bool) []CertView {
	now := time.Now()
	views := []CertView{}
	if trusted {
		for _, t := range append(slices.Clone(c.Trusted), c.Intermediates...) {
			views = append(views, NewCertView(t, nil, false, now))
		}
		return views
	}
	for _, cand := range sel.Candidates {
		views = append(views, NewCertView(cand.Certificate, &cand.Status, cand == sel.Chosen, now))
	}
	return views
}

func getCert(c *certs.Contents, sel *certs.Selection, thumbprint string, trusted bool) (*CertView, error) {
	tp, err := certs.ParseThumbprint(thumbprint)
	if err != nil {
		return nil, err
	}
	for _, v := range listCerts(c, sel, trusted) {
		if v.Thumbprint == tp {
			return &v, nil
		}
	}
	if !trusted {
		// A trusted certificate is found without --trusted too.
		return getCert(c, sel, tp, true)
	}
	return nil, &certs.NotFoundError{Thumbprint: tp}
}

// newKey is new-self-signed and request: a key of key-type for fqdn (the
// server record's name by default) and its certificate or request.
func newKey(ctx context.Context, env CertEnv, r CertRequest) (any, error) {
	p := r.Params
	kt, err := certs.ParseKeyType(stringParam(p, "key-type"))
	if err != nil {
		return nil, &ParamError{Param: "key-type", Err: err}
	}
	fqdn := stringParam(p, "fqdn")
	if fqdn == "" {
		if fqdn, _, err = certIdentity(ctx, env); err != nil {
			return nil, err
		}
	}
	var sans []string
	for _, v := range p["san"] {
		if v = strings.TrimSpace(v); v != "" {
			sans = append(sans, v)
		}
	}
	if r.Verb == MakeRequest {
		der, err := boolParam(p, "der")
		if err != nil {
			return nil, err
		}
		csr, err := env.Store.NewRequest(certs.RequestOptions{FQDN: fqdn, SANs: sans, KeyType: kt})
		if err != nil {
			return nil, err
		}
		f := &CertFile{FQDN: fqdn, Format: certs.FormatDER, Data: csr}
		if !der {
			f.Format, f.Data = certs.FormatPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
		}
		return f, nil
	}
	days := 0
	if s := stringParam(p, "days"); s != "" {
		if days, err = strconv.Atoi(s); err != nil || days < 0 {
			return nil, &ParamError{Param: "days", Err: fmt.Errorf("%q is not a positive number of days", s)}
		}
	}
	c, err := env.Store.NewSelfSigned(certs.SelfSignedOptions{FQDN: fqdn, SANs: sans, KeyType: kt, Validity: time.Duration(days) * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	emit(ctx, env, "A self-signed certificate was generated into the personal store.", c)
	sel, contents, err := selection(ctx, env)
	if err != nil {
		return nil, err
	}
	return getCert(contents, sel, c.Thumbprint(), false)
}

// EncodeCertData writes a certificate file's content as the certificate
// parameter of import takes it: PEM as it is, anything else in base64.
func EncodeCertData(data []byte) string {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return string(data)
	}
	return base64.StdEncoding.EncodeToString(data)
}

func decodeCertData(s string) ([]byte, error) {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(data) == 0 {
		return nil, &ParamError{Param: "certificate", Err: errors.New("must be PEM text, or DER or PKCS#12/PFX in base64")}
	}
	return data, nil
}

func importCerts(ctx context.Context, env CertEnv, r CertRequest) (*CertImported, error) {
	p := r.Params
	flags := map[string]bool{}
	for _, name := range []string{"trusted", "ca", "pinned"} {
		b, err := boolParam(p, name)
		if err != nil {
			return nil, err
		}
		flags[name] = b
	}
	as, err := trustOf(flags["trusted"], flags["ca"], flags["pinned"])
	if err != nil {
		return nil, err
	}
	if len(p["certificate"]) == 0 {
		return nil, &ParamError{Param: "certificate", Err: errors.New("is required by cert import")}
	}
	data, err := decodeCertData(last(p["certificate"]))
	if err != nil {
		return nil, err
	}
	var res *certs.ImportResult
	if flags["trusted"] {
		res, err = env.Store.ImportTrusted(data, stringParam(p, "password"), as)
	} else {
		res, err = env.Store.Import(data, stringParam(p, "password"), false)
	}
	if err != nil {
		return nil, err
	}
	out := &CertImported{Added: []CertView{}, Notes: res.Notes}
	for _, c := range res.Added {
		emit(ctx, env, fmt.Sprintf("A certificate was imported into the %s store.", strings.ToLower(string(c.Location))), c)
		out.Added = append(out.Added, NewCertView(c, nil, false, time.Now()))
	}
	return out, nil
}

// trustOf reads ca and pinned, which qualify trusted: the trust to import
// with, "" to decide by the certificate.
func trustOf(trusted, ca, pinned bool) (certs.Trust, error) {
	switch {
	case (ca || pinned) && !trusted:
		return "", errors.New("--ca and --pinned say how a trusted certificate is trusted: add --trusted")
	case ca && pinned:
		return "", errors.New("--ca and --pinned exclude each other: a CA issues peer certificates, a pinned certificate is one peer's")
	case ca:
		return certs.TrustCA, nil
	case pinned:
		return certs.TrustPinned, nil
	}
	return "", nil
}

func exportCert(env CertEnv, thumbprint string, p Params) (*CertFile, error) {
	tp, err := certs.ParseThumbprint(thumbprint)
	if err != nil {
		return nil, err
	}
	f, err := certs.ParseFormat(stringParam(p, "format"))
	if err != nil {
		return nil, &ParamError{Param: "format", Err: err}
	}
	if f == certs.FormatPFX && env.Remote {
		return nil, &ParamError{Param: "format", Err: errKeyOverAPI}
	}
	data, err := env.Store.Export(tp, f, stringParam(p, "password"))
	if err != nil {
		return nil, err
	}
	return &CertFile{Thumbprint: tp, Format: f, Data: data}, nil
}

func removeCert(ctx context.Context, env CertEnv, r CertRequest, c *certs.Contents, sel *certs.Selection, trusted bool) (*CertRemoved, error) {
	tp, err := certs.ParseThumbprint(r.Name)
	if err != nil {
		return nil, err
	}
	force, err := boolParam(r.Params, "force")
	if err != nil {
		return nil, err
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
		return nil, &certs.NotFoundError{Thumbprint: tp, Location: loc}
	}
	if !force {
		if err := inUse(sel, tp, loc); err != nil {
			return nil, err
		}
	}
	if err := env.Store.Remove(loc, tp); err != nil {
		return nil, err
	}
	emit(ctx, env, fmt.Sprintf("A certificate was removed from the %s store.", strings.ToLower(string(loc))), cert)
	return &CertRemoved{Thumbprint: tp, Store: loc}, nil
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

package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// parsed is what an imported file holds.
type parsed struct {
	certs []*x509.Certificate
	key   crypto.Signer // nil when the file has none
}

// parseInput reads PEM (certificates and at most one key, in any order),
// a DER certificate, or PKCS#12 protected by password.
func parseInput(data []byte, password string) (*parsed, error) {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return parsePEM(data)
	}
	if cert, err := x509.ParseCertificate(data); err == nil {
		return &parsed{certs: []*x509.Certificate{cert}}, nil
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return nil, fmt.Errorf("certs: wrong password for the PKCS#12 file")
	case err != nil && strings.Contains(err.Error(), "private key missing"):
		return nil, fmt.Errorf("certs: the PKCS#12 file holds no private key; import its certificates as PEM or DER")
	case err != nil:
		return nil, fmt.Errorf("certs: not a PEM, DER or PKCS#12 certificate file, or a truncated one")
	}
	signer, err := checkKey(key)
	if err != nil {
		return nil, err
	}
	return &parsed{certs: append([]*x509.Certificate{leaf}, chain...), key: signer}, nil
}

func parsePEM(data []byte) (*parsed, error) {
	p := &parsed{}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certs: a certificate in the file is corrupt: %w", err)
			}
			p.certs = append(p.certs, cert)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if p.key != nil {
				return nil, fmt.Errorf("certs: the file holds more than one private key")
			}
			key, err := parsePEMKey(block)
			if err != nil {
				return nil, err
			}
			p.key = key
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("certs: encrypted PEM keys are not supported: decrypt it (openssl pkey) or import a PKCS#12 file")
		case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			return nil, fmt.Errorf("certs: the file is a certificate request, not a certificate")
		case "EC PARAMETERS":
			// openssl ecparam writes these before the key; they say nothing new.
		default:
			return nil, fmt.Errorf("certs: unsupported PEM block %q", block.Type)
		}
	}
	// pem.Decode stops quietly at a block it cannot finish: a truncated file.
	if bytes.Contains(rest, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("certs: the PEM file is truncated or corrupt")
	}
	if len(p.certs) == 0 {
		return nil, fmt.Errorf("certs: the file holds no certificate")
	}
	return p, nil
}

func parsePEMKey(block *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		// The parser's message may quote key material: keep it out.
		return nil, fmt.Errorf("certs: the private key in the file is corrupt or of an unsupported type")
	}
	return checkKey(key)
}

// ImportResult says what Import did with each certificate of the file.
type ImportResult struct {
	Added []*Certificate // with the location each went to
	Notes []string       // what was skipped, paired or lacks a key, one line each
}

// Import adds the certificates of a file to the store: data is PEM
// (certificates and at most one private key, in any order), DER or PKCS#12
// (with password). Without trusted, the certificate that matches the key
// (or, when there is no key, a pending request's key, CERT-3) goes to the
// personal store; CA certificates of the chain go to the intermediate
// pool; a root in the chain is not trusted just because it came along. With
// trusted, it is ImportTrusted, each certificate's trust decided by
// DefaultTrust.
//
// Import checks everything before it writes anything: bad input leaves
// the store as it was.
func (s *Store) Import(data []byte, password string, trusted bool) (*ImportResult, error) {
	if trusted {
		return s.ImportTrusted(data, password, "")
	}
	p, err := parseInput(data, password)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	type write struct {
		loc  Location
		cert *x509.Certificate
		key  crypto.Signer
	}
	var writes []write
	var pendingPath string

	var leaf *x509.Certificate
	if p.key != nil {
		for _, c := range p.certs {
			if keyMatches(p.key, c.PublicKey) {
				leaf = c
				break
			}
		}
		if leaf == nil {
			return nil, fmt.Errorf("certs: the private key does not match any certificate in the file")
		}
		writes = append(writes, write{Personal, leaf, p.key})
	}
	for _, c := range p.certs {
		if c == leaf {
			continue
		}
		switch {
		case c.IsCA && KindOf(c) == SelfSigned:
			res.Notes = append(res.Notes, fmt.Sprintf("skipped root CA %s (%s): import it with --trusted to trust it", c.Subject, Thumbprint(c)))
		case c.IsCA:
			writes = append(writes, write{Intermediate, c, nil})
		case p.key == nil:
			key, path, err := s.pendingKey(c.PublicKey)
			if err != nil {
				return nil, err
			}
			if key != nil {
				res.Notes = append(res.Notes, fmt.Sprintf("paired %s with the key of its certificate request", Thumbprint(c)))
				pendingPath = path
			} else if KindOf(c) == SelfSigned {
				res.Notes = append(res.Notes, fmt.Sprintf("%s has no private key: the server cannot use it (to trust a peer's self-signed certificate, import it with --trusted)", Thumbprint(c)))
			} else {
				res.Notes = append(res.Notes, fmt.Sprintf("%s has no private key: the server cannot use it", Thumbprint(c)))
			}
			writes = append(writes, write{Personal, c, key})
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("skipped %s (%s): not a CA and not the key's certificate", c.Subject, Thumbprint(c)))
		}
	}
	for _, w := range writes {
		if err := s.put(w.loc, w.cert, w.key); err != nil {
			return nil, err
		}
		res.Added = append(res.Added, &Certificate{X509: w.cert, Key: w.key, Location: w.loc})
	}
	if pendingPath != "" {
		// The key now lives beside its certificate; the pending copy goes.
		if err := os.Remove(pendingPath); err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
	}
	return res, nil
}

// Format is a file format for Export.
type Format string

// The export formats.
const (
	FormatPEM Format = "pem"
	FormatDER Format = "der"
	FormatPFX Format = "pfx"
)

// ParseFormat returns the format named s; empty means PEM.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "pem":
		return FormatPEM, nil
	case "der", "cer", "crt":
		return FormatDER, nil
	case "pfx", "p12", "pkcs12":
		return FormatPFX, nil
	}
	return "", fmt.Errorf("certs: unsupported format %q (pem, der or pfx)", s)
}

// Export returns the certificate with the thumbprint, from any part of the
// store. PEM and DER hold the public certificate alone: what a gateway
// imports to trust the server (CERT-2). PFX holds the certificate, its
// private key and the chain the store can build for it, protected by
// password, which must not be empty.
func (s *Store) Export(thumbprint string, format Format, password string) ([]byte, error) {
	c, err := s.Load()
	if err != nil {
		return nil, err
	}
	cert := c.Find(thumbprint)
	if cert == nil {
		return nil, &NotFoundError{Thumbprint: thumbprint}
	}
	switch format {
	case FormatPEM:
		return certPEM(cert.X509), nil
	case FormatDER:
		return cert.X509.Raw, nil
	case FormatPFX:
		if password == "" {
			return nil, fmt.Errorf("certs: a PFX export needs a password (--password)")
		}
		if cert.Key == nil {
			return nil, fmt.Errorf("certs: %s has no private key to export", thumbprint)
		}
		var chain []*x509.Certificate
		if chains, err := cert.X509.Verify(x509.VerifyOptions{
			Roots: c.Roots(), Intermediates: c.IntermediatePool(),
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			CurrentTime: cert.X509.NotBefore.Add(time.Second),
		}); err == nil {
			chain = chains[0][1:]
		}
		pfx, err := pkcs12.Modern.Encode(cert.Key, cert.X509, chain, password)
		if err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
		return pfx, nil
	}
	return nil, fmt.Errorf("certs: unsupported format %q (pem, der or pfx)", format)
}

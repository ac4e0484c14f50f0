package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Trust says what a certificate of the trusted store is trusted for (SPEC
// PEER-2): to issue peer certificates, or to be one peer's certificate.
type Trust string

// The kinds of trust.
const (
	// TrustCA is a certificate authority: peer certificates may chain to it.
	TrustCA Trust = "CA"
	// TrustPinned is one peer's own certificate, trusted as exactly that
	// certificate: a peer presenting it is admitted, and nothing it signs
	// is, whatever its basic constraints say. openssl makes self-signed
	// certificates CA:TRUE by default, so a gateway's key would otherwise
	// mint a certificate for any other gateway.
	TrustPinned Trust = "Pinned"
)

// trustExt names the file beside trusted/THUMBPRINT.crt that records an
// explicit choice of trust (its content is the Trust). A certificate
// without one, as every trusted file before the record existed, gets
// DefaultTrust.
const trustExt = ".trust"

// ParseTrust reads a Trust as the trust file and the command line write it.
func ParseTrust(s string) (Trust, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ca":
		return TrustCA, nil
	case "pinned", "peer":
		return TrustPinned, nil
	}
	return "", fmt.Errorf("certs: unknown trust %q (CA or Pinned)", s)
}

// DefaultTrust is the trust of a certificate imported with no explicit
// choice: TrustCA when it looks like a certificate authority, that is
// CA:TRUE, keyCertSign allowed (by the key usage extension, or by its
// absence, RFC 5280 §4.2.1.3), no EKU that lets it authenticate a TLS
// server or client, and no host name; TrustPinned otherwise, as for the
// self-signed certificate of a gateway.
func DefaultTrust(cert *x509.Certificate) Trust {
	if cannotIssue(cert) != "" || tlsEKU(cert) || hostName(cert) != "" {
		return TrustPinned
	}
	return TrustCA
}

// cannotIssue says why cert may not sign certificates, or "" when it may.
func cannotIssue(cert *x509.Certificate) string {
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return "its basic constraints do not make it a CA (CA:TRUE)"
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return "its key usage does not allow keyCertSign"
	}
	return ""
}

// issues says what lets cert sign other certificates, or "" for nothing:
// what a peer's own certificate must not have (RFC 5280 §4.2.1.9).
func issues(cert *x509.Certificate) string {
	switch {
	case cert.BasicConstraintsValid && cert.IsCA:
		return "is a CA (basicConstraints CA:TRUE)"
	case cert.KeyUsage&x509.KeyUsageCertSign != 0:
		return "allows keyCertSign"
	}
	return ""
}

// tlsEKU reports whether cert's EKU names TLS server or client
// authentication, which an end entity has and a root CA usually not.
func tlsEKU(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// hostName returns a host cert names, as openum reads a peer's name (SAN,
// or CN when there is no SAN), or "" when it names none. A CN counts only
// when it is a DNS name with a dot ("gw1.contoso.test", not "Contoso Root
// CA" nor "R3"): a CA is named after an organisation, a peer after a host.
func hostName(cert *x509.Certificate) string {
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames[0]
	}
	if len(cert.IPAddresses) > 0 {
		return cert.IPAddresses[0].String()
	}
	cn := cert.Subject.CommonName
	if !strings.Contains(cn, ".") || strings.HasPrefix(cn, ".") || strings.HasSuffix(cn, ".") {
		return ""
	}
	for _, r := range cn {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '*') {
			return ""
		}
	}
	return cn
}

// ImportTrusted adds the certificates of a file (PEM or DER) to the
// trusted store, each trusted as given: TrustCA (it must be a CA allowed
// to sign), TrustPinned, or "" to let DefaultTrust decide by the
// certificate. Every certificate must be a CA or self-signed, and a
// private key is refused. It checks everything before it writes anything.
func (s *Store) ImportTrusted(data []byte, password string, as Trust) (*ImportResult, error) {
	p, err := parseInput(data, password)
	if err != nil {
		return nil, err
	}
	if p.key != nil {
		return nil, errors.New("certs: --trusted takes certificates only, and the file holds a private key")
	}
	for _, c := range p.certs {
		if !c.IsCA && KindOf(c) != SelfSigned {
			return nil, fmt.Errorf("certs: %s (%s) is neither a CA nor self-signed, so it cannot be a trusted root", c.Subject, Thumbprint(c))
		}
		if why := cannotIssue(c); as == TrustCA && why != "" {
			return nil, fmt.Errorf("certs: %s (%s) cannot be trusted as a CA: %s; import it with --trusted alone to trust it as one peer's certificate", c.Subject, Thumbprint(c), why)
		}
	}
	res := &ImportResult{}
	for _, c := range p.certs {
		if err := s.putTrusted(c, as); err != nil {
			return nil, err
		}
		trust := as
		if trust == "" {
			trust = DefaultTrust(c)
			if trust == TrustPinned && cannotIssue(c) == "" {
				res.Notes = append(res.Notes, fmt.Sprintf("%s is CA:TRUE but looks like a peer's certificate (a TLS EKU or a host name), so it is pinned: trusted as exactly itself, it issues no peer certificate; if it is a CA, import it with --trusted --ca", Thumbprint(c)))
			}
		}
		res.Added = append(res.Added, &Certificate{X509: c, Location: Trusted, Trust: trust})
	}
	return res, nil
}

// putTrusted writes cert into the trusted store with its trust record: as,
// or none for "" (a record left by an earlier import goes, so that
// DefaultTrust decides).
func (s *Store) putTrusted(cert *x509.Certificate, as Trust) error {
	path := filepath.Join(s.dir, locationDirs[Trusted], Thumbprint(cert)+trustExt)
	if as == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("certs: %w", err)
		}
	} else if err := WriteFileAtomic(path, []byte(string(as)+"\n"), 0o644); err != nil {
		return err
	}
	return s.put(Trusted, cert, nil)
}

// readTrust returns the trust of the trusted certificate in crtPath: its
// record, else DefaultTrust. A record that cannot be read pins the
// certificate, the side that lets nothing more in, and is reported.
func readTrust(crtPath string, cert *x509.Certificate) (Trust, error) {
	path := strings.TrimSuffix(crtPath, ".crt") + trustExt
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultTrust(cert), nil
	}
	if err != nil {
		return TrustPinned, fmt.Errorf("certs: %w", err)
	}
	t, err := ParseTrust(string(data))
	if err != nil {
		return TrustPinned, fmt.Errorf("certs: %s holds neither CA nor Pinned: the certificate is pinned meanwhile", path)
	}
	return t, nil
}

package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// KeyType is the kind of key openum generates.
type KeyType string

// The key types openum generates. ECDSA P-256 is the default: small, fast,
// and accepted by every gateway of the last decade; RSA is there for older
// ones.
const (
	ECDSAP256 KeyType = "ecdsa-p256"
	RSA2048   KeyType = "rsa2048"
	RSA3072   KeyType = "rsa3072"
)

// KeyTypes lists the key types in the order the command line shows them.
var KeyTypes = []KeyType{ECDSAP256, RSA2048, RSA3072}

// ParseKeyType returns the key type named s; empty means ECDSAP256.
func ParseKeyType(s string) (KeyType, error) {
	if s == "" {
		return ECDSAP256, nil
	}
	for _, t := range KeyTypes {
		if strings.EqualFold(string(t), s) {
			return t, nil
		}
	}
	return "", fmt.Errorf("certs: unsupported key type %q (rsa2048, rsa3072 or ecdsa-p256)", s)
}

func newKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("certs: unsupported key type %q (rsa2048, rsa3072 or ecdsa-p256)", t)
}

// DefaultValidity is how long a self-signed certificate is valid unless
// told otherwise: five years, as Exchange 2010 and later make them.
const DefaultValidity = 5 * 365 * 24 * time.Hour

// SelfSignedOptions describes a self-signed certificate to generate.
type SelfSignedOptions struct {
	FQDN     string        // subject CN and first SAN (required)
	SANs     []string      // further DNS names or IP addresses
	KeyType  KeyType       // default ECDSAP256
	Validity time.Duration // default DefaultValidity
	Now      time.Time     // start of validity; default time.Now()
}

// NewSelfSigned generates a key and a self-signed certificate for the
// server (CERT-4): subject = issuer = the FQDN, the FQDN and the SANs as
// subject alternative names, EKU serverAuth and clientAuth, so that it
// serves on both sides of mutual TLS. It is not a CA: a peer trusts it as
// itself, not as an issuer.
func NewSelfSigned(opts SelfSignedOptions) (*x509.Certificate, crypto.Signer, error) {
	dns, ips, err := subjectNames(opts.FQDN, opts.SANs)
	if err != nil {
		return nil, nil, err
	}
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := opts.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	if validity < 0 {
		return nil, nil, fmt.Errorf("certs: validity must be positive")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		usage |= x509.KeyUsageKeyEncipherment // TLS 1.2 RSA key exchange
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: opts.FQDN},
		// A few minutes' grace, for peers whose clock is slightly behind.
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	return cert, key, nil
}

// NewSelfSigned generates a self-signed certificate (see the function
// NewSelfSigned) and adds it with its key to the personal store.
func (s *Store) NewSelfSigned(opts SelfSignedOptions) (*Certificate, error) {
	cert, key, err := NewSelfSigned(opts)
	if err != nil {
		return nil, err
	}
	if err := s.put(Personal, cert, key); err != nil {
		return nil, err
	}
	return &Certificate{X509: cert, Key: key, Location: Personal}, nil
}

// RequestOptions describes a certificate request.
type RequestOptions struct {
	FQDN    string   // subject CN and first SAN (required)
	SANs    []string // further DNS names or IP addresses
	KeyType KeyType  // default ECDSAP256
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// NewRequest generates a key, keeps it in the store as pending, and
// returns a PKCS#10 certificate request (DER) for the FQDN and SANs that
// asks for EKU serverAuth and clientAuth (CERT-3). Importing the
// certificate the CA issues for it pairs it with the pending key.
func (s *Store) NewRequest(opts RequestOptions) ([]byte, error) {
	dns, ips, err := subjectNames(opts.FQDN, opts.SANs)
	if err != nil {
		return nil, err
	}
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	// Both usages are asked for because a CA's server template often
	// gives serverAuth alone, which mutual TLS cannot use.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}, {1, 3, 6, 1, 5, 5, 7, 3, 2}})
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: opts.FQDN},
		DNSNames:        dns,
		IPAddresses:     ips,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Value: eku}},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	if err := s.putPending(key); err != nil {
		return nil, err
	}
	return der, nil
}

// subjectNames splits the FQDN and SANs into DNS names and IP addresses,
// the FQDN first, without duplicates.
func subjectNames(fqdn string, sans []string) ([]string, []net.IP, error) {
	if strings.TrimSpace(fqdn) == "" {
		return nil, nil, fmt.Errorf("certs: an FQDN is required")
	}
	var dns []string
	var ips []net.IP
	for _, n := range append([]string{fqdn}, sans...) {
		n = strings.TrimSpace(n)
		if ip := net.ParseIP(n); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if !validDNSName(n) {
			return nil, nil, fmt.Errorf("certs: %q is not a DNS name or IP address", n)
		}
		if !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
	}
	return dns, ips, nil
}

// validDNSName accepts host names and a leading wildcard label.
func validDNSName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for i, label := range strings.Split(n, ".") {
		if label == "*" && i == 0 {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Package certs is openum's certificate store (SPEC CERT-1..CERT-8): the
// server's own certificates with their private keys, the trusted roots that
// peers' certificates must chain to, and the intermediate CAs between them,
// kept as files under the data directory; the choice of the certificate the
// server presents (CERT-5); self-signed generation (CERT-4); certificate
// requests (CERT-3); and the Manager that hands TLS configurations to the
// SIP layer and picks up changes to the store without a restart (CERT-8).
//
// Every certificate is known by its thumbprint: the SHA-1 of its DER
// encoding in upper-case hexadecimal, as Windows and Exchange print it. The
// SHA-256 is shown beside it, because SHA-1 is no longer a safe identity
// against a chosen-prefix attacker; the store refuses to hold two
// certificates with one SHA-1 anyway, since it names files after it.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Location is the part of the store a certificate is kept in.
type Location string

// The parts of the store.
const (
	// Personal holds the server's own certificates, each with its private
	// key when the store has it.
	Personal Location = "Personal"
	// Trusted holds the roots peers' certificates must chain to: CAs and
	// trusted self-signed certificates (of gateways, for example).
	Trusted Location = "Trusted"
	// Intermediate holds the CAs between a root and a leaf, used to build
	// chains but never trusted on their own.
	Intermediate Location = "Intermediate"
)

// Certificate is one certificate of the store.
type Certificate struct {
	X509     *x509.Certificate
	Key      crypto.Signer // the private key; nil when the store has none
	Location Location
	Trust    Trust // in the trusted store: CA or pinned peer certificate
}

// Thumbprint returns the certificate's SHA-1 thumbprint.
func (c *Certificate) Thumbprint() string { return Thumbprint(c.X509) }

// SHA256 returns the SHA-256 of the certificate's DER encoding, upper-case hex.
func (c *Certificate) SHA256() string { return SHA256(c.X509) }

// Thumbprint returns the SHA-1 of cert's DER encoding in upper-case
// hexadecimal, as Windows prints a certificate's thumbprint.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// SHA256 returns the SHA-256 of cert's DER encoding in upper-case hexadecimal.
func SHA256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// SerialNumber returns cert's serial number in upper-case hexadecimal, as
// Windows shows it.
func SerialNumber(cert *x509.Certificate) string {
	if cert.SerialNumber == nil {
		return ""
	}
	if cert.SerialNumber.Sign() < 0 {
		return "-" + strings.ToUpper(hex.EncodeToString(new(big.Int).Neg(cert.SerialNumber).Bytes()))
	}
	return strings.ToUpper(hex.EncodeToString(cert.SerialNumber.Bytes()))
}

// ParseThumbprint accepts a SHA-1 thumbprint as people paste it: any case,
// with spaces or colons between the bytes (openssl's "AB:CD:..."), and
// returns it in canonical form.
func ParseThumbprint(s string) (string, error) {
	t := strings.ToUpper(strings.NewReplacer(":", "", " ", "", "\u200e", "").Replace(strings.TrimSpace(s)))
	if len(t) != 2*sha1.Size {
		return "", fmt.Errorf("certs: %q is not a thumbprint (40 hexadecimal digits)", s)
	}
	if _, err := hex.DecodeString(t); err != nil {
		return "", fmt.Errorf("certs: %q is not a thumbprint (40 hexadecimal digits)", s)
	}
	return t, nil
}

// Kind says where a certificate's trust comes from (CERT-5).
type Kind string

// The kinds of certificate.
const (
	SelfSigned Kind = "SelfSigned" // subject = issuer, signed by its own key
	PKI        Kind = "PKI"        // issued by a CA, private or commercial
)

// KindOf returns SelfSigned when cert is issued by itself and its signature
// checks with its own key, else PKI.
func KindOf(cert *x509.Certificate) Kind {
	// CheckSignatureFrom would refuse a self-signed leaf that is not a CA,
	// which is what Exchange and openum generate: check the signature
	// itself.
	if string(cert.RawIssuer) == string(cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil {
		return SelfSigned
	}
	return PKI
}

// checkKey reports whether key is a type and size openum accepts for TLS.
func checkKey(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("certs: RSA key of %d bits is too weak (2048 at least)", k.N.BitLen())
		}
		return k, nil
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().Name {
		case "P-256", "P-384", "P-521":
			return k, nil
		}
		return nil, fmt.Errorf("certs: unsupported ECDSA curve %s (P-256, P-384 or P-521)", k.Curve.Params().Name)
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("certs: unsupported private key type %T (RSA, ECDSA or Ed25519)", key)
}

// keyMatches reports whether key is the private key of pub.
func keyMatches(key crypto.Signer, pub any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	p, ok := key.Public().(equaler)
	return ok && p.Equal(pub)
}

// ekuName names an extended key usage as openssl and Windows do.
func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	case x509.ExtKeyUsageIPSECEndSystem, x509.ExtKeyUsageIPSECTunnel, x509.ExtKeyUsageIPSECUser:
		return "ipsec"
	}
	return fmt.Sprintf("eku(%d)", int(u))
}

// EKUs lists cert's extended key usages by name; empty means the
// certificate does not restrict its use.
func EKUs(cert *x509.Certificate) []string {
	var out []string
	for _, u := range cert.ExtKeyUsage {
		out = append(out, ekuName(u))
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}

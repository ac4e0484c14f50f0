package certs

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/openum/openum/internal/atomicfile"
)

// Store is the certificate store kept in a directory, DATA/certs:
//
//	personal/THUMBPRINT.crt      the server's certificates (PEM)
//	personal/THUMBPRINT.key      their private keys (PKCS#8 PEM, mode 0600)
//	trusted/THUMBPRINT.crt       trusted roots: CAs and pinned peer certificates
//	trusted/THUMBPRINT.trust     CA or Pinned, when chosen at import (else by the certificate)
//	intermediate/THUMBPRINT.crt  intermediate CAs
//	pending/KEYID.key            keys of certificate requests awaiting their certificate
//
// Directories are mode 0700: only the service's user may read a key. Every
// file is written to a temporary name and renamed into place, so a reader
// (another openum process, the running server) never sees half a file, and
// a write that fails leaves the store as it was.
//
// A Store holds no state besides its directory: several Stores, in several
// processes, may work on one directory at once. Each call reads the files
// afresh.
type Store struct {
	dir string
}

// subdirectories of the store, by location.
var locationDirs = map[Location]string{
	Personal:     "personal",
	Trusted:      "trusted",
	Intermediate: "intermediate",
}

const pendingDir = "pending"

// OpenStore opens the store in dir, creating it and its subdirectories
// (mode 0700) when they do not exist.
func OpenStore(dir string) (*Store, error) {
	for _, sub := range []string{"personal", "trusted", "intermediate", pendingDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Contents is what the store held when it was loaded.
type Contents struct {
	Personal      []*Certificate
	Trusted       []*Certificate
	Intermediates []*Certificate
	// Problems lists files that could not be read, one line each; the
	// rest of the store is still usable.
	Problems []string
}

// Find returns the certificate with the thumbprint, looking in the
// personal, trusted and intermediate stores in that order, or nil.
func (c *Contents) Find(thumbprint string) *Certificate {
	for _, list := range [][]*Certificate{c.Personal, c.Trusted, c.Intermediates} {
		for _, cert := range list {
			if cert.Thumbprint() == thumbprint {
				return cert
			}
		}
	}
	return nil
}

// IntermediatePool returns the intermediate CAs as a pool.
func (c *Contents) IntermediatePool() *x509.CertPool { return pool(c.Intermediates) }

func pool(certs []*Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c.X509)
	}
	return p
}

// Load reads the whole store.
func (s *Store) Load() (*Contents, error) {
	c := &Contents{}
	var err error
	if c.Personal, err = s.loadDir(Personal, c); err != nil {
		return nil, err
	}
	if c.Trusted, err = s.loadDir(Trusted, c); err != nil {
		return nil, err
	}
	if c.Intermediates, err = s.loadDir(Intermediate, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Store) loadDir(loc Location, c *Contents) ([]*Certificate, error) {
	dir := filepath.Join(s.dir, locationDirs[loc])
	names, err := listFiles(dir, ".crt")
	if err != nil {
		return nil, err
	}
	var out []*Certificate
	for _, name := range names {
		path := filepath.Join(dir, name)
		cert, err := readCertFile(path)
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
			continue
		}
		entry := &Certificate{X509: cert, Location: loc}
		if loc == Trusted {
			if entry.Trust, err = readTrust(path, cert); err != nil {
				c.Problems = append(c.Problems, err.Error())
			}
		}
		if loc == Personal {
			key, err := readKeyFile(strings.TrimSuffix(path, ".crt") + ".key")
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				c.Problems = append(c.Problems, err.Error())
			case !keyMatches(key, cert.PublicKey):
				c.Problems = append(c.Problems, fmt.Sprintf("certs: %s.key does not match its certificate", strings.TrimSuffix(path, ".crt")))
			default:
				entry.Key = key
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

// listFiles lists the files of dir ending in ext, sorted, without the
// temporary files of writes in progress.
func listFiles(dir, ext string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ext) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

func readCertFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certs: %s is not a PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", path, err)
	}
	return cert, nil
}

func readKeyFile(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("certs: %s is not a PEM private key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// Never wrap the parser's error: it is about key material.
		return nil, fmt.Errorf("certs: %s is not a valid private key", path)
	}
	return checkKey(key)
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: cannot encode private key: %T", key)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// put writes cert, and key when not nil, into loc. The key goes first: a
// crash between the two leaves a key without a certificate, which nothing
// reads, rather than a certificate whose key seems missing.
func (s *Store) put(loc Location, cert *x509.Certificate, key crypto.Signer) error {
	base := filepath.Join(s.dir, locationDirs[loc], Thumbprint(cert))
	if key != nil {
		data, err := keyPEM(key)
		if err != nil {
			return err
		}
		if err := WriteFileAtomic(base+".key", data, 0o600); err != nil {
			return err
		}
	}
	return WriteFileAtomic(base+".crt", certPEM(cert), 0o644)
}

// Remove deletes the certificate with the thumbprint from loc, with its
// private key or trust record. The certificate file goes first, so that a key is never
// left in use without it.
func (s *Store) Remove(loc Location, thumbprint string) error {
	base := filepath.Join(s.dir, locationDirs[loc], thumbprint)
	if err := os.Remove(base + ".crt"); errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Thumbprint: thumbprint, Location: loc}
	} else if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	for _, ext := range []string{".key", trustExt} {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("certs: %w", err)
		}
	}
	if err := atomicfile.SyncDir(filepath.Dir(base)); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// NotFoundError is returned for a thumbprint the store does not hold.
type NotFoundError struct {
	Thumbprint string
	Location   Location // empty: in no part of the store
}

func (e *NotFoundError) Error() string {
	if e.Location == "" {
		return fmt.Sprintf("certs: no certificate with thumbprint %s in the store", e.Thumbprint)
	}
	return fmt.Sprintf("certs: no certificate with thumbprint %s in the %s store", e.Thumbprint, strings.ToLower(string(e.Location)))
}

// keyID names a pending key: the SHA-256 of its public key, which is also
// the public key of the certificate the CA will issue for it.
func keyID(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:])), nil
}

func (s *Store) pendingPath(pub any) (string, error) {
	id, err := keyID(pub)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, pendingDir, id+".key"), nil
}

// putPending keeps the key of a certificate request until its certificate
// is imported.
func (s *Store) putPending(key crypto.Signer) error {
	path, err := s.pendingPath(key.Public())
	if err != nil {
		return err
	}
	data, err := keyPEM(key)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

// pendingKey returns the pending key for a certificate's public key, or nil.
func (s *Store) pendingKey(pub any) (crypto.Signer, string, error) {
	path, err := s.pendingPath(pub)
	if err != nil {
		return nil, "", err
	}
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !keyMatches(key, pub) {
		return nil, "", fmt.Errorf("certs: %s does not match its name", path)
	}
	return key, path, nil
}

// Fingerprint summarises the names, sizes and modification times of the
// store's files. It changes whenever a file is added, replaced or removed,
// by this process or another, which is how the Manager notices changes
// without reading every certificate each time.
func (s *Store) Fingerprint() (string, error) {
	h := sha256.New()
	for _, sub := range []string{"personal", "trusted", "intermediate"} {
		dir := filepath.Join(s.dir, sub)
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("certs: %w", err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // removed while we listed it; the next poll sees it
			}
			fmt.Fprintf(h, "%s/%s %d %d\n", sub, e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteFileAtomic writes data to path, mode perm, so that path holds
// either its old content or all of data, never a part, also after a crash
// (see atomicfile.WriteFile).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := atomicfile.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// CertificatePEM returns cert in PEM, as gateways import it.
func CertificatePEM(cert *x509.Certificate) []byte { return certPEM(cert) }

// IdentityPEM returns cert and its private key in one PEM file, the form
// softphones such as baresip read a client certificate in. Write it 0600.
func IdentityPEM(cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	k, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	return append(certPEM(cert), k...), nil
}

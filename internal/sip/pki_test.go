package sip

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The gateways' PKI, made by openssl, and openssl s_client as a gateway.

// opensslPKI is a certificate authority made by openssl, and the gateway
// certificates it signs, as PEM files in dir.
type opensslPKI struct {
	dir string
}

// gatewayCerts are the certificates the peer tests present: one good
// certificate per gateway name, and one for each way a certificate can be
// wrong (SPEC PEER-2).
var gatewayCerts = []struct {
	name   string // file stem
	cn     string
	san    string // subjectAltName, "" for none
	eku    string
	dates  string // openssl ca -startdate/-enddate, "" for now..+1 day
	ca     string // the signing CA: "ca" (trusted) or "rogue" (not)
	issuer bool   // CA:TRUE and keyCertSign: a gateway certificate that can sign others
}{
	{"gw1", "localhost", "DNS:localhost", "clientAuth,serverAuth", "", "ca", false},
	{"expired", "localhost", "DNS:localhost", "clientAuth,serverAuth", "-startdate 20200101000000Z -enddate 20200102000000Z", "ca", false},
	{"wrongname", "gw9.example.test", "DNS:gw9.example.test", "clientAuth,serverAuth", "", "ca", false},
	{"noclientauth", "localhost", "DNS:localhost", "serverAuth", "", "ca", false},
	{"untrusted", "localhost", "DNS:localhost", "clientAuth,serverAuth", "", "rogue", false},
	{"gwa", "gwa.localhost", "DNS:gwa.localhost", "clientAuth,serverAuth", "", "ca", true},
}

// forgedCerts are certificates for GW1 ("localhost") that another gateway's
// key signed (openssl x509 -req -CA), the attack SPEC PEER-2 refuses: by
// gwa, the CA:TRUE certificate the trusted CA gave gateway A, and by gwp,
// gateway P's self-signed certificate, CA:TRUE as openssl makes them.
var forgedCerts = []struct{ name, signer string }{
	{"forged-by-gwa", "gwa"},
	{"forged-by-gwp", "gwp"},
}

var (
	pkiOnce sync.Once
	pki     *opensslPKI
	pkiErr  error
	pkiRoot string
)

// sharedPKI makes the openssl PKI once for the whole package.
func sharedPKI(t testing.TB) *opensslPKI {
	t.Helper()
	pkiOnce.Do(func() {
		pkiRoot, pkiErr = os.MkdirTemp("", "openum-sip-pki-")
		if pkiErr == nil {
			pki, pkiErr = makePKI(pkiRoot)
		}
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

func openssl(dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func makePKI(dir string) (*opensslPKI, error) {
	p := &opensslPKI{dir: dir}
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"}
	for _, ca := range []string{"ca", "rogue"} {
		args := append([]string{"req", "-x509"}, ec...)
		args = append(args, "-keyout", ca+".key", "-out", ca+".crt", "-days", "2", "-subj", "/O=openum tests/CN=openum "+ca+" gateway CA",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
		if err := openssl(dir, args...); err != nil {
			return nil, err
		}
		cadir := filepath.Join(dir, ca+".db")
		if err := errors.Join(os.MkdirAll(filepath.Join(cadir, "new"), 0o700),
			os.WriteFile(filepath.Join(cadir, "index.txt"), nil, 0o600),
			os.WriteFile(filepath.Join(cadir, "serial"), []byte("1000\n"), 0o600),
			os.WriteFile(filepath.Join(dir, ca+".cnf"), fmt.Appendf(nil, `[ca]
default_ca = this
[this]
database = %[1]s/index.txt
new_certs_dir = %[1]s/new
serial = %[1]s/serial
certificate = %[2]s/%[3]s.crt
private_key = %[2]s/%[3]s.key
default_md = sha256
default_days = 1
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
`, cadir, dir, ca), 0o600)); err != nil {
			return nil, err
		}
	}
	for _, c := range gatewayCerts {
		ext := fmt.Sprintf("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n", c.eku)
		if c.issuer {
			ext = fmt.Sprintf("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=%s\n", c.eku)
		}
		if c.san != "" {
			ext += "subjectAltName=" + c.san + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, c.name+".ext"), []byte(ext), 0o600); err != nil {
			return nil, err
		}
		args := append([]string{"req", "-new"}, ec...)
		args = append(args, "-keyout", c.name+".key", "-out", c.name+".csr", "-subj", "/CN="+c.cn)
		if err := openssl(dir, args...); err != nil {
			return nil, err
		}
		args = []string{"ca", "-batch", "-notext", "-config", c.ca + ".cnf", "-in", c.name + ".csr", "-out", c.name + ".crt", "-extfile", c.name + ".ext"}
		args = append(args, strings.Fields(c.dates)...)
		if err := openssl(dir, args...); err != nil {
			return nil, err
		}
	}
	if err := makeForgeries(dir, ec); err != nil {
		return nil, err
	}
	return p, nil
}

// makeForgeries makes gwp, gateway P's self-signed certificate with
// openssl's defaults (CA:TRUE), and the forgedCerts.
func makeForgeries(dir string, ec []string) error {
	args := append([]string{"req", "-x509"}, ec...)
	args = append(args, "-keyout", "gwp.key", "-out", "gwp.crt", "-days", "2", "-subj", "/CN=gwp.localhost",
		"-addext", "subjectAltName=DNS:gwp.localhost", "-addext", "extendedKeyUsage=serverAuth,clientAuth")
	if err := openssl(dir, args...); err != nil {
		return err
	}
	ext := "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=DNS:localhost\n"
	if err := os.WriteFile(filepath.Join(dir, "forged.ext"), []byte(ext), 0o600); err != nil {
		return err
	}
	for _, f := range forgedCerts {
		args := append([]string{"req", "-new"}, ec...)
		args = append(args, "-keyout", f.name+".key", "-out", f.name+".csr", "-subj", "/CN=localhost")
		if err := openssl(dir, args...); err != nil {
			return err
		}
		if err := openssl(dir, "x509", "-req", "-in", f.name+".csr", "-CA", f.signer+".crt", "-CAkey", f.signer+".key",
			"-set_serial", "4242", "-days", "1", "-extfile", "forged.ext", "-out", f.name+".crt"); err != nil {
			return err
		}
	}
	return nil
}

// path is the file of a certificate ("gw1.crt") or key ("gw1.key").
func (p *opensslPKI) path(file string) string { return filepath.Join(p.dir, file) }

// caPEM is the trusted CA, for the server's trusted root store.
func (p *opensslPKI) caPEM(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sClientOptions is the OPTIONS a gateway sends through sClient.
var sClientOptions = strings.ReplaceAll("OPTIONS sip:um.localhost SIP/2.0\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKssl1\n"+
	"From: <sip:gw@localhost>;tag=1\nTo: <sip:um.localhost>\nCall-ID: ssl1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n", "\n", "\r\n")

// sClient runs openssl s_client as a gateway on the TLS port: it presents
// cert (a stem of p's files), followed by the certificates of chain
// (stems too), verifies the server's certificate for um.localhost, and
// sends an OPTIONS. A gateway the server admits reads "SIP/2.0 200 OK".
func (f *fixture) sClient(p *opensslPKI, cert string, chain ...string) *tool {
	f.t.Helper()
	dir := f.t.TempDir()
	serverCA := filepath.Join(dir, "server.crt")
	if err := os.WriteFile(serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Certs.Current().X509.Raw}), 0o600); err != nil {
		f.t.Fatal(err)
	}
	args := []string{"s_client", "-quiet", "-connect", f.srv.Addrs()["TLS"].String(), "-servername", "um.localhost",
		"-cert", p.path(cert + ".crt"), "-key", p.path(cert + ".key"),
		"-CAfile", serverCA, "-verify_return_error", "-verify_hostname", "um.localhost"}
	if len(chain) > 0 {
		var pems []byte
		for _, c := range chain {
			b, err := os.ReadFile(p.path(c + ".crt"))
			if err != nil {
				f.t.Fatal(err)
			}
			pems = append(pems, b...)
		}
		file := filepath.Join(dir, "chain.crt")
		if err := os.WriteFile(file, pems, 0o600); err != nil {
			f.t.Fatal(err)
		}
		args = append(args, "-cert_chain", file)
	}
	return startToolIn(f.t, &heldBack{r: strings.NewReader(sClientOptions), delay: 500 * time.Millisecond}, 15*time.Second, dir, "openssl", args...)
}

// heldBack delays its first read. s_client sends its request as soon as its
// side of a TLS 1.3 handshake is done, before the server has judged the
// client's certificate; a server refusing it then closes a connection that
// holds unread data, which the kernel resets, and s_client may lose the
// alert to ECONNRESET. Held back a moment, the request follows the verdict.
type heldBack struct {
	r     io.Reader
	delay time.Duration
	once  sync.Once
}

func (h *heldBack) Read(p []byte) (int, error) {
	h.once.Do(func() { time.Sleep(h.delay) })
	return h.r.Read(p)
}

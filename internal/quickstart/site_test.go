package quickstart

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/pin"
)

func TestSetupMakesASoundSecuredSite(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	dir, err := sqlite.Open(ctx, filepath.Join(data, "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	store, err := certs.OpenStore(filepath.Join(data, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	site, err := Setup(ctx, Config{Directory: dir, Actor: directory.Actor{User: "test"}, Certs: store, Dir: filepath.Join(data, "quickstart")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := dir.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.Validate(snap, nil); err != nil {
		t.Fatalf("the site breaks a directory rule: %v", err)
	}
	plan, err := snap.DialPlan("QuickStart")
	if err != nil || plan.VoIPSecurity != directory.Secured {
		t.Fatalf("dial plan: %+v, %v; want Secured", plan, err)
	}
	m, err := snap.Mailbox(Mailbox)
	if err != nil || site.PIN == "" || !pin.Verify(m.PIN.Hash, site.PIN) || !m.PINExpired {
		t.Fatalf("mailbox %+v, %v: the PIN shown must be the one stored, expired", m, err)
	}
	if sv, err := snap.LocalServer(""); err != nil || sv.Name != Server {
		t.Fatalf("this machine's server record: %v, %v; want %s", sv, err, Server)
	}
	peertest.CheckPerm(t, filepath.Join(site.Dir, "gateway.pem"), 0o600) // the gateway's private key
	c, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Find(certs.Thumbprint(site.GatewayCert)) == nil || c.Find(site.ServerCert.Thumbprint()) == nil {
		t.Fatal("the gateway's certificate is not trusted, or the server's is not in the store")
	}
	// ECDSA P-256: a fresh handshake costs the server far less than with RSA.
	for name, cert := range map[string]*x509.Certificate{"server": site.ServerCert.X509, "gateway": site.GatewayCert} {
		if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
			t.Errorf("the %s's certificate has a %T key; want ECDSA P-256", name, cert.PublicKey)
		}
	}
}

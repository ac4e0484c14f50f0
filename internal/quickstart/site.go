// Package quickstart sets up a complete Secured site on loopback — a dial
// plan, a test gateway with its own certificate, a hunt group, a mailbox
// policy, a mailbox and the server's certificate — and calls it as that
// gateway, over mutual TLS with SRTP, leaving a voice message: what
// openum quickstart shows a new administrator.
package quickstart

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
)

// The quickstart's names: a loopback-only site anyone can recreate.
const (
	Server    = "localhost"
	Gateway   = "gateway.localhost"
	Mailbox   = "alice@example.test"
	Extension = "12345"
)

// Config is where Setup builds the site.
type Config struct {
	Directory directory.Directory // an empty directory
	Actor     directory.Actor     // who the directory's audit log names
	Certs     *certs.Store        // the server's certificate store
	Dir       string              // the quickstart's own files: the gateway's identity, the recording
}

// Site is a quickstart site as Setup made it.
type Site struct {
	Dir         string // as Config.Dir
	GatewayCert *x509.Certificate
	gatewayKey  crypto.Signer
	ServerCert  *certs.Certificate
	PIN         string // the mailbox's PIN, to be shown once
}

// Setup makes the site: the test gateway's identity, its own certificate
// in Dir/gateway.pem (0600), which the server trusts; the server's
// self-signed certificate for localhost and 127.0.0.1; and in the
// directory a Secured dial plan, the gateway, a hunt group, a policy, the
// server's record and a mailbox with a random PIN, expired.
func Setup(ctx context.Context, c Config) (*Site, error) {
	gwCert, gwKey, err := certs.NewSelfSigned(certs.SelfSignedOptions{FQDN: Gateway})
	if err != nil {
		return nil, err
	}
	s := &Site{Dir: c.Dir, GatewayCert: gwCert, gatewayKey: gwKey}
	gatewayPEM, err := certs.IdentityPEM(gwCert, gwKey)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	if err := certs.WriteFileAtomic(filepath.Join(c.Dir, "gateway.pem"), gatewayPEM, 0o600); err != nil {
		return nil, err
	}
	if _, err := c.Certs.Import(certs.CertificatePEM(gwCert), "", true); err != nil {
		return nil, err
	}
	if s.ServerCert, err = c.Certs.NewSelfSigned(certs.SelfSignedOptions{FQDN: Server, SANs: []string{"127.0.0.1"}}); err != nil {
		return nil, err
	}
	_, err = c.Directory.Update(ctx, c.Actor, func(d *directory.Snapshot) error {
		if err := addObjects(d); err != nil {
			return err
		}
		pin, err := d.AssignPIN(Mailbox, "", true)
		s.PIN = pin
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// addObjects adds the site's directory objects to d.
func addObjects(d *directory.Snapshot) error {
	plan := directory.NewDialPlan("QuickStart")
	plan.NumberOfDigitsInExtension, plan.VoIPSecurity = len(Extension), directory.Secured
	gw := directory.NewIPGateway("TestGateway")
	gw.Address, gw.Port = Gateway, 5061
	sv := directory.NewServer(Server)
	sv.DialPlans = directory.List[string]{plan.Name}
	return errors.Join(d.AddDialPlan(plan), d.AddIPGateway(gw), d.AddServer(sv),
		d.AddHuntGroup(directory.HuntGroup{Name: "QuickStartHG", UMIPGateway: gw.Name, UMDialPlan: plan.Name}),
		d.AddMailboxPolicy(directory.NewMailboxPolicy("QuickStartPolicy", plan.Name)),
		d.AddMailbox(directory.Mailbox{EmailAddress: Mailbox, DisplayName: "Alice (quickstart)", UMDialPlan: plan.Name,
			UMMailboxPolicy: "QuickStartPolicy", Extensions: directory.List[string]{Extension}, PINExpired: true}))
}

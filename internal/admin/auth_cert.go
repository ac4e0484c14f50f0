package admin

import (
	"context"
	"crypto/x509"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
)

// certAuth authenticates administrators by client certificate (mutual
// TLS), when Config.ClientCertRole is set. A certificate authenticates only
// when both hold:
//   - it chains to the trusted store, verified as SIP peers are
//     (certs.PeerTrust.Verify, clientAuth), with the trust current now;
//   - its subject's common name is the name of an admin token of the
//     directory: the request is that token's, its name the actor.
//
// The second rule is why a certificate alone is not enough: the trusted
// store admits gateways, and a gateway's certificate must not open the
// admin API. Removing the token ends the certificate's access too. The
// role is the token's, at most ClientCertRole.
type certAuth struct {
	max   directory.AdminRole     // the highest role a certificate gives; "" for none
	trust func() *certs.PeerTrust // the trusted store as it is now
}

func (c certAuth) on() bool { return c.max != "" && c.trust != nil }

// identity returns the identity chain proves, or why it proves none (for
// the event log only).
func (c certAuth) identity(ctx context.Context, a *authenticator, chain []*x509.Certificate) (Identity, string) {
	if _, err := c.trust().Verify(chain, certs.PeerOptions{Usage: x509.ExtKeyUsageClientAuth}); err != nil {
		return Identity{}, "refused: " + err.Error()
	}
	snap, err := a.snapshot(ctx)
	if err != nil {
		return Identity{}, "the directory cannot be read"
	}
	cn := chain[0].Subject.CommonName
	t, err := snap.AdminToken(cn)
	if cn == "" || err != nil {
		return Identity{}, "refused: its common name names no admin token"
	}
	role := t.Role
	if role.Allows(c.max) {
		role = c.max
	}
	return Identity{Name: t.Name, Role: role}, ""
}

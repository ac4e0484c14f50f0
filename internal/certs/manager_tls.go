package certs

// The TLS configurations a Manager hands the listeners and dialers, each
// taking the certificate and trust current at its handshake.

import (
	"crypto/tls"
	"crypto/x509"
)

// GetCertificate is for tls.Config.GetCertificate of a server that is no
// SIP peer (the admin API): each handshake presents the certificate in use
// at that moment, so a renewal needs no restart, and asks for no client
// certificate.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.current.Load().tlsCert, nil
}

// ServerTLSConfig returns the configuration of the mutual TLS listener: TLS
// 1.2 at least, the current certificate, and a client certificate required
// and verified against the trusted store (PeerTrust.Verify: a pinned
// certificate admits exactly itself, a CA leaf is refused), with an EKU
// that allows clientAuth. Whether the peer is the gateway it claims to be (its name) is
// for the SIP layer to check against the directory.
//
// The chain is verified by VerifyConnection alone, not by crypto/tls
// first, so that a gateway's chain admitted before is not checked again
// (PeerTrust.Verify); ClientCAs still tells the peer which CAs are
// trusted. The peer learns less from a refusal than crypto/tls would tell
// it: the alert is "bad certificate" whatever the reason, which the event
// log gives (1113).
//
// Each handshake gets a copy of the returned configuration with the
// certificate and roots current at that moment, so the caller may set
// other fields (SessionTicketsDisabled, NextProtos) on it before use.
func (m *Manager) ServerTLSConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequireAnyClientCert}
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		st := m.current.Load()
		c := cfg.Clone()
		c.GetConfigForClient = nil
		c.Certificates = []tls.Certificate{*st.tlsCert}
		c.ClientCAs = st.trust.Pool()
		// Whatever the caller changed, the peer must prove who it is.
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyConnection = st.trust.VerifyConnection(x509.ExtKeyUsageClientAuth)
		c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
		return c, nil
	}
	return cfg
}

// ClientTLSConfig returns the configuration for a connection the server
// opens to serverName (PEER-3): it presents the current certificate as
// client certificate and verifies the peer's certificate and name against
// the trusted store, as ServerTLSConfig does a client's. Call it for each
// connection: the trust is that current at the call.
func (m *Manager) ClientTLSConfig(serverName string) *tls.Config {
	trust := m.current.Load().trust
	return &tls.Config{
		MinVersion:           tls.VersionTLS12,
		ServerName:           serverName,
		RootCAs:              trust.Pool(),
		VerifyConnection:     trust.VerifyConnection(x509.ExtKeyUsageServerAuth),
		GetClientCertificate: m.clientCertificate,
	}
}

// DialTLSConfig is ClientTLSConfig for a connection layer that keeps one
// configuration for every connection it opens (sipgo's transport, which
// sets ServerName to the host it dials): each handshake verifies the
// peer's chain, serverAuth and name against the trusted store current at
// that moment, so a CA imported later counts without a restart (CERT-8).
// The name is the one the connection was opened to, as sent in SNI; a
// connection to an IP address has none and is refused, since a gateway
// used over TLS is configured by FQDN (PEER-2).
func (m *Manager) DialTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// crypto/tls would check against the roots of the moment this
		// configuration was made: VerifyConnection checks it all instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.ServerName == "" {
				return &PeerCertificateError{Reason: "the connection names no host (an IP address?) to verify the peer's certificate against"}
			}
			_, err := m.current.Load().trust.Verify(cs.PeerCertificates, PeerOptions{Usage: x509.ExtKeyUsageServerAuth, DNSName: cs.ServerName})
			return err
		},
		GetClientCertificate: m.clientCertificate,
	}
}

// clientCertificate presents the certificate current at the handshake.
func (m *Manager) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return m.current.Load().tlsCert, nil
}

// tlsCertificate is the chosen certificate as crypto/tls presents it: the
// leaf, then the intermediates of its verified chain (not the root, which
// the peer has).
func tlsCertificate(c *Candidate) *tls.Certificate {
	chain := [][]byte{c.X509.Raw}
	if len(c.Chain) > 2 {
		for _, ca := range c.Chain[1 : len(c.Chain)-1] {
			chain = append(chain, ca.Raw)
		}
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: c.Key, Leaf: c.X509}
}

package sip

// TLS settings and peer identification: who is at the other end of a
// connection or datagram, and what the event log says when it is refused.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/events"
)

func (s *Server) serverTLSConfig() *tls.Config {
	c := s.cfg.Certs.ServerTLSConfig()
	s.applyTLSSettings(c)
	return c
}

func (s *Server) clientTLSConfig() *tls.Config {
	if s.cfg.Certs == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// sipgo keeps this one configuration for every connection it opens to
	// a gateway (PEER-3), so its trust must be the store's at each handshake.
	c := s.cfg.Certs.DialTLSConfig()
	s.applyTLSSettings(c)
	return c
}

func (s *Server) applyTLSSettings(c *tls.Config) {
	c.MinVersion = max(s.cfg.TLS.MinVersion, tls.VersionTLS12)
	c.SessionTicketsDisabled = !s.cfg.TLS.SessionTickets
	if s.cfg.TLS.CipherSuites != nil {
		c.CipherSuites = s.cfg.TLS.CipherSuites
	}
}

// identify finds the peer at the other end (SPEC PEER-1, PEER-2, PEER-5):
// over TLS by the names in its certificate, verified by the handshake, otherwise by its
// address. A name or address that is a gateway's makes the peer that
// gateway; else one that is an openum server's makes it that server, a
// peer that is never taken for a gateway (see serverPlan). It returns why
// not when the peer is neither.
func (s *Server) identify(ip netip.Addr, transport string, state *tls.ConnectionState) (Peer, string) {
	v := s.view.Load()
	if state == nil {
		if p, ok := v.peerAt(ip); ok {
			p.Transport = transport
			return p, ""
		}
		return Peer{}, "address is not a configured gateway or server"
	}
	// A completed handshake has verified the certificate: the listener's
	// and the dialer's VerifyConnection (certs.PeerTrust.Verify).
	if len(state.PeerCertificates) == 0 {
		return Peer{}, "no verified client certificate"
	}
	leaf := state.PeerCertificates[0]
	names := certs.Names(leaf)
	p := Peer{Transport: transport, Certificate: certs.Thumbprint(leaf)}
	for _, n := range names {
		if name, ok := v.byFQDN[fqdnKey(n)]; ok {
			p.Gateway = name
			return p, ""
		}
	}
	for _, n := range names {
		if name, ok := v.servers[fqdnKey(n)]; ok {
			p.Server = name
			return p, ""
		}
	}
	return Peer{}, fmt.Sprintf("certificate %s names %s, which is no enabled gateway's FQDN and no server's",
		certs.Thumbprint(leaf), strings.Join(names, ", "))
}

// peerRefused logs a refusal and bans a source refused too often; a
// banned source's refusals are counted instead.
func (s *Server) peerRefused(ctx context.Context, ip netip.Addr, transport, why string) {
	if s.refusedWhileBanned(ctx, ip, transport) {
		return
	}
	s.cfg.Events.Emit(ctx, events.PeerRefused, "peer refused",
		slog.String("source", ip.String()), slog.String("transport", transport), slog.String("reason", why))
	if s.sources.refused(ip) {
		s.cfg.Events.Emit(ctx, events.BanAdded, "source banned after repeated refusals",
			slog.String("source", ip.String()), slog.Duration("for", s.limits.BanFor))
	}
}

// handshakeFailed logs a failed TLS handshake: Exchange's 1113 (the
// certificate exchange failed) with the Reason when the peer's certificate
// was missing or refused, else 9209.
func (s *Server) handshakeFailed(ctx context.Context, ip netip.Addr, err error) {
	if s.refusedWhileBanned(ctx, ip, "TLS") {
		return
	}
	id := events.TLSHandshakeFailed
	attrs := []slog.Attr{slog.String("source", ip.String()), slog.String("error", err.Error())}
	if reason, ok := certificateRefused(err); ok {
		id = events.GatewayTLSFailed
		attrs = append(attrs, slog.String("Reason", reason))
	}
	s.cfg.Events.Emit(ctx, id, "TLS handshake failed", attrs...)
	if s.sources.refused(ip) {
		s.cfg.Events.Emit(ctx, events.BanAdded, "source banned after repeated refusals",
			slog.String("source", ip.String()), slog.Duration("for", s.limits.BanFor))
	}
}

// certificateRefused returns why the peer's certificate was refused, when
// that is why a handshake failed: by openum's trust rules (PEER-2), or by
// crypto/x509's.
func certificateRefused(err error) (string, bool) {
	var refused *certs.PeerCertificateError
	var invalid *tls.CertificateVerificationError
	switch {
	case errors.As(err, &refused):
		return refused.Reason, true
	case errors.As(err, &invalid):
		return invalid.Err.Error(), true
	case strings.Contains(err.Error(), "certificate"):
		// crypto/tls has no error type for a client certificate missing
		// or unparsable: its message is all there is.
		return err.Error(), true
	}
	return "", false
}

// filterDatagram drops UDP datagrams from banned or unknown sources before
// sipgo parses them: a scanner gets no answer at all. Streams were already
// checked when their connection was accepted.
func (s *Server) filterDatagram(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" {
		return data, nil
	}
	ip := addrPort(info.RemoteAddr).Addr()
	if s.refusedWhileBanned(context.Background(), ip, "UDP") {
		return nil, nil
	}
	if _, ok := s.view.Load().peerAt(ip); !ok {
		s.peerRefused(context.Background(), ip, "UDP", "address is not a configured gateway or server")
		return nil, nil
	}
	return data, nil
}

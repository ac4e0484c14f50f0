package sip

// A Server that is never started listens nowhere but can place calls: the
// outbound path of a process other than openum serve (openum message
// play-on-phone), built with New on the same directory and certificates.
// It knows nothing of OPTIONS (no gateway is marked down); the gateway's
// requests in the call's dialog (its BYE) come back on the connection
// openum opened, as they do to a running server.

import (
	"net"
	"net/netip"
	"strconv"
)

// Close releases a Server that was never started: its connections and
// sipgo's user agent. A started Server stops with Shutdown instead.
func (s *Server) Close() error {
	s.closeAll()
	return nil
}

// contactAddr is the host and port openum's Contact names for transport:
// its listener's, or, on a server that listens nowhere, where its record
// says openum serve listens.
func (s *Server) contactAddr(transport string) (string, int) {
	s.mu.Lock()
	addr, ok := s.listeners[transport] // not Addrs: no map copy for each call's Contact
	s.mu.Unlock()
	if !ok {
		v := s.view.Load()
		port := v.server.SipTcpListeningPort
		if transport == "TLS" {
			port = v.server.SipTlsListeningPort
		}
		return s.cfg.FQDN, port
	}
	host, portStr, _ := net.SplitHostPort(addr.String())
	p, _ := strconv.Atoi(portStr)
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = s.cfg.FQDN
	}
	return host, p
}

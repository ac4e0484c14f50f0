// Package testcall places test calls against an openum server, as a
// gateway would: one call reported step by step for test connectivity
// (SPEC OPS-2, Test-UMConnectivity), many concurrent calls for test load.
// Options go in, a report comes out; the calls are made with the sip
// package's Caller and the certificates of the certs store.
package testcall

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/sip"
)

// Options say where to call, as whom and how securely. The zero value calls
// the local server over TCP from and to 127.0.0.1 with RTP.
type Options struct {
	Gateway      string // call through this IP gateway instead of the local loop
	Phone        string // the number to call; default: the pilot of the caller's hunt group
	Secured      bool   // SIP over mutual TLS to the TLS port
	MediaSecured bool   // offer SRTP only
	Thumbprint   string // the client certificate to present; default: the server's own
	RemotePort   int    // the port to call; default: the server's, or the gateway's
	Address      string // the server's address for the local loop; default 127.0.0.1
	LocalIP      string // the address to call from; default 127.0.0.1
	CertsDir     string // the certificate store, read only when Secured
}

// Target is a call set up from Options and the directory, checked before
// anything is sent. Its methods place the calls.
type Target struct {
	addr         string // host:port
	serverName   string // the name the server's certificate must show
	transport    string
	mediaSecured bool
	tls          *tls.Config // nil over TCP
	trust        *certs.PeerTrust
	clientCert   *certs.Certificate
	phone        string
	localIP      netip.Addr
}

// Resolve checks o against the directory: this machine's server record
// (directory.Snapshot.LocalServer), the gateway named, and, when Secured,
// the certificate store. Its errors name the option at fault.
func Resolve(snap *directory.Snapshot, o Options) (*Target, error) {
	snap = snap.Clone() // the default record below is not the caller's to keep
	sv, err := snap.AddLocalServer("")
	if err != nil {
		return nil, err
	}
	o.Address, o.LocalIP = cmp.Or(o.Address, "127.0.0.1"), cmp.Or(o.LocalIP, "127.0.0.1")
	local, err := netip.ParseAddr(o.LocalIP)
	if err != nil {
		return nil, fmt.Errorf("--local-ip: %q is not an IP address", o.LocalIP)
	}
	t := &Target{transport: "TCP", phone: o.Phone, localIP: local, serverName: sv.Name, mediaSecured: o.MediaSecured}
	host, port := o.Address, sv.SipTcpListeningPort
	if o.Secured {
		t.transport, port = "TLS", sv.SipTlsListeningPort
	}
	if o.Gateway != "" {
		gw, err := snap.IPGateway(o.Gateway)
		if err != nil {
			return nil, err
		}
		host, port, t.serverName = gw.Address, gw.Port, gw.Address
	}
	if o.RemotePort != 0 {
		port = o.RemotePort
	}
	t.addr = net.JoinHostPort(host, strconv.Itoa(port))
	if !o.Secured {
		if o.Phone == "" {
			t.phone = defaultPilot(snap, func(g directory.IPGateway) bool { return g.Address == o.LocalIP })
		}
		return t, nil
	}
	if err := t.clientIdentity(o.CertsDir, sv, o.Thumbprint); err != nil {
		return nil, err
	}
	if o.Phone == "" {
		names := certs.Names(t.clientCert.X509)
		t.phone = defaultPilot(snap, func(g directory.IPGateway) bool {
			return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, g.Address) })
		})
	}
	return t, nil
}

// clientIdentity picks the certificate to present and the trust that
// verifies the server: the trusted store and, for the local loop, openum's
// own certificates, pinned (each admits exactly itself).
func (t *Target) clientIdentity(dir string, sv *directory.Server, thumbprint string) error {
	store, err := certs.OpenStore(dir)
	if err != nil {
		return err
	}
	c, err := store.Load()
	if err != nil {
		return err
	}
	if thumbprint == "" {
		sel := certs.Select(c, certs.Policy{FQDN: sv.Name, Pin: sv.CertificateThumbprint, Now: time.Now()})
		if sel.Chosen == nil {
			return fmt.Errorf("no usable certificate to present: give one with --certificate-thumbprint (openum cert select explains)")
		}
		thumbprint = sel.Chosen.Thumbprint
	}
	tp, err := certs.ParseThumbprint(thumbprint)
	if err != nil {
		return err
	}
	t.clientCert = c.Find(tp)
	if t.clientCert == nil || t.clientCert.Key == nil {
		return fmt.Errorf("--certificate-thumbprint: %s is not a certificate with a private key in the personal store", tp)
	}
	var own []*x509.Certificate
	for _, p := range c.Personal {
		own = append(own, p.X509)
	}
	t.trust = c.PeerTrust().WithPinned(own...)
	id := &tls.Certificate{Certificate: [][]byte{t.clientCert.X509.Raw}, PrivateKey: t.clientCert.Key, Leaf: t.clientCert.X509}
	t.tls = &tls.Config{
		MinVersion: tls.VersionTLS12, ServerName: t.serverName, RootCAs: t.trust.Pool(),
		VerifyConnection: t.trust.VerifyConnection(x509.ExtKeyUsageServerAuth),
		// Present the certificate even when the server's list of CAs does
		// not name its issuer: the server's refusal is what the test reports.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return id, nil },
	}
	return nil
}

// defaultPilot is the pilot of the first hunt group of the first gateway
// that matches, the number a gateway would call.
func defaultPilot(s *directory.Snapshot, match func(directory.IPGateway) bool) string {
	for _, g := range s.IPGateways {
		if !match(g) {
			continue
		}
		for _, h := range s.HuntGroups {
			if directory.SameName(h.UMIPGateway, g.Name) {
				return h.PilotIdentifier
			}
		}
	}
	return ""
}

func (t *Target) caller() (*sip.Caller, error) {
	return sip.NewCaller(sip.CallerConfig{Server: t.addr, Transport: t.transport, TLS: t.tls, LocalIP: t.localIP, From: "openum-test"})
}

// HasAddress reports whether an interface of this machine has ip: a call
// from any other address would fail at the bind (Options.LocalIP).
func HasAddress(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // unknown: the call's bind will say
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

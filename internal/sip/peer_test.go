package sip

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file holds the test side of the wire: a certificate authority that
// makes gateway certificates, and a tiny SIP peer that writes requests as
// text and reads responses, so tests can send what real gateways and
// attackers send, well-formed or not.

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "openum test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leafOptions describe a gateway certificate, valid and for clientAuth
// unless told otherwise.
type leafOptions struct {
	names    []string
	expired  bool
	eku      []x509.ExtKeyUsage
	noSAN    bool
	selfSign bool
}

var serial int64 = 100

func (ca *testCA) leaf(t testing.TB, o leafOptions) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: o.names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: o.eku, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if o.eku == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	}
	if !o.noSAN {
		tmpl.DNSNames = o.names
	}
	if o.expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	parent, signer := ca.cert, ca.key
	if o.selfSign {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// peer is a SIP user agent on one connection from a chosen loopback address.
type peer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	via  string // transport token for Via
	seq  int
}

func dialFrom(t testing.TB, from string, to net.Addr, tlsConf *tls.Config) (*peer, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 3 * time.Second}
	var conn net.Conn
	var err error
	via := "TCP"
	if tlsConf != nil {
		conn, err = tls.DialWithDialer(&d, "tcp", to.String(), tlsConf)
		via = "TLS"
	} else {
		conn, err = d.Dial("tcp", to.String())
	}
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn, r: bufio.NewReader(conn), via: via}, nil
}

func (p *peer) send(msg string) {
	p.t.Helper()
	msg = strings.ReplaceAll(strings.TrimLeft(msg, "\n"), "\n", "\r\n")
	if _, err := io.WriteString(p.conn, msg); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// request writes a request with the headers every request needs; a body
// is SDP unless extra has a Content-Type.
func (p *peer) request(method, uri, callID, extra, body string) {
	p.t.Helper()
	if method != "ACK" { // an ACK for a 2xx repeats the INVITE's CSeq number
		p.seq++
	}
	local := p.conn.LocalAddr().String()
	ctype := ""
	if body != "" && !strings.Contains(extra, "Content-Type:") {
		ctype = "Content-Type: application/sdp\n"
	}
	body = strings.ReplaceAll(body, "\n", "\r\n")
	head := fmt.Sprintf("%s %s SIP/2.0\nVia: SIP/2.0/%s %s;branch=z9hG4bK%s%d%s\nFrom: <sip:gw@%s>;tag=gw1\nTo: <%s>%s\nCall-ID: %s\nCSeq: %d %s\nContact: <sip:gw@%s;transport=%s>\nMax-Forwards: 70\n%s%sContent-Length: %d\n\n",
		method, uri, p.via, local, callID, p.seq, method, local, uri, toTag(extra), callID, p.seq, method, local, strings.ToLower(p.via), ctype, stripTag(extra), len(body))
	p.send(head)
	if _, err := io.WriteString(p.conn, body); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// extra may start with "totag=X\n" to address a dialog.
func toTag(extra string) string {
	if tag, ok := strings.CutPrefix(extra, "totag="); ok {
		tag, _, _ = strings.Cut(tag, "\n")
		return ";tag=" + tag
	}
	return ""
}

func stripTag(extra string) string {
	if strings.HasPrefix(extra, "totag=") {
		_, rest, _ := strings.Cut(extra, "\n")
		return rest
	}
	return extra
}

type response struct {
	status int
	header textproto.MIMEHeader
	body   string
}

// response reads the next final response, skipping provisional ones.
func (p *peer) response() (*response, error) {
	for {
		_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		tp := textproto.NewReader(p.r)
		line, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		var status int
		if _, err := fmt.Sscanf(line, "SIP/2.0 %d", &status); err != nil {
			return nil, fmt.Errorf("not a response: %q", line)
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			return nil, err
		}
		n, _ := strconv.Atoi(h.Get("Content-Length"))
		body := make([]byte, n)
		if _, err := io.ReadFull(p.r, body); err != nil {
			return nil, err
		}
		if status >= 200 {
			return &response{status: status, header: h, body: string(body)}, nil
		}
	}
}

func (p *peer) mustStatus(want int) *response {
	p.t.Helper()
	res, err := p.response()
	if err != nil {
		p.t.Fatalf("want %d, got error %v", want, err)
	}
	if res.status != want {
		p.t.Fatalf("status %d; want %d", res.status, want)
	}
	return res
}

// closedWithoutAnswer reports whether the server closed the connection
// without a word.
func (p *peer) closedWithoutAnswer() bool {
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := p.r.ReadByte()
	_ = b
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// sdpOffer is a G.711 offer; crypto adds RTP/SAVP with an SDES key.
func sdpOffer(host string, crypto bool) string {
	proto, attr := "RTP/AVP", ""
	if crypto {
		proto = "RTP/SAVP"
		attr = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\n"
	}
	return fmt.Sprintf("v=0\no=gw 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio 40000 %s 0 8 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n%s", host, host, proto, attr)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

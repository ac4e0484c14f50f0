package sip

import (
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/events"
)

// A slow-trickle attacker (SPEC PEER-4): a message must arrive whole within
// MessageTimeout of its first byte, however often bytes of it come.

// trickleLimits make the idle timeout long and the message bound short, so
// that a close before the idle timeout can only be the message bound.
var trickleLimits = Limits{MessageTimeout: time.Second, IdleTimeout: 10 * time.Second}

// trickleInvite is the start of an INVITE the attacker never finishes.
const trickleInvite = "INVITE sip:5000@um.localhost SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5999;branch=z9hG4bKslow\r\nFrom: <sip:gw@127.0.0.2>;tag=1\r\nX-Slow: "

// trickle writes the start of an INVITE, then one byte of a header that
// never ends every 300 ms, until a write fails or the test ends. It
// returns when the first bytes went out.
func trickle(t *testing.T, w io.Writer) time.Time {
	t.Helper()
	if _, err := io.WriteString(w, trickleInvite); err != nil {
		t.Fatal(err)
	}
	first := time.Now()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if _, err := w.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	return first
}

// checkClosedInTime checks that the connection closed about MessageTimeout
// after first, long before the idle timeout, with event 9215 saying so.
func checkClosedInTime(t *testing.T, f *fixture, first, closed time.Time, transport string) {
	t.Helper()
	took := closed.Sub(first)
	if took < 900*time.Millisecond || took > 2500*time.Millisecond {
		t.Fatalf("the server closed the trickling %s connection %v after its first byte; want about the 1 s MessageTimeout", transport, took)
	}
	r := f.event(events.MessageIncomplete, transport)
	if r.Attrs["Gateway"] == "" || r.Attrs["Bound"] != "1s" || r.Attrs["Bytes"].(float64) < float64(len(trickleInvite)) {
		t.Fatalf("event 9215 lacks the gateway, the bound or the bytes received: %v", r.Attrs)
	}
	t.Logf("closed %v after the first byte: %v", took.Round(time.Millisecond), r.Attrs)
}

// A trusted gateway's address on a raw TCP socket sends the first bytes of
// an INVITE, then a byte every 300 ms: each byte used to put the idle
// deadline off again, and the connection stayed as long as bytes came.
func TestTrickledMessageClosedTCP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, trickleLimits)
	p := f.tcp("127.0.0.2")
	first := trickle(t, p.conn)
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := p.conn.Read(make([]byte, 1))
	if isTimeout(err) {
		t.Fatal("the trickling connection is still open 5 s after its first byte")
	}
	checkClosedInTime(t, f, first, time.Now(), "TCP")
	if f.count(events.MessageIncomplete) != 1 {
		t.Fatalf("%d events 9215 for one connection", f.count(events.MessageIncomplete))
	}
}

// The same over mutual TLS, from openssl s_client with GW1's certificate
// fed the INVITE through a pipe: each byte goes out as a TLS record of its
// own, which the server decrypts and hands on, so the record layer does not
// hide the trickle.
func TestTrickledMessageClosedTLS(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	f := newFixture(t, trickleLimits, trusting(p.caPEM(t)))
	dir := t.TempDir()
	serverCA := filepath.Join(dir, "server.crt")
	if err := os.WriteFile(serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Certs.Current().X509.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, feed, err := os.Pipe() // a file: s_client reads it itself
	if err != nil {
		t.Fatal(err)
	}
	sc := startToolIn(t, stdin, 20*time.Second, dir, "openssl", "s_client", "-quiet",
		"-connect", f.srv.Addrs()["TLS"].String(), "-servername", "um.localhost",
		"-cert", p.path("gw1.crt"), "-key", p.path("gw1.key"),
		"-CAfile", serverCA, "-verify_return_error", "-verify_hostname", "um.localhost")
	t.Cleanup(func() { feed.Close(); stdin.Close() }) // before s_client is waited for
	f.waitPeer("TLS")
	first := trickle(t, feed)
	select {
	case <-sc.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the trickling TLS connection is still open 5 s after its first byte:\n%s", sc.out.String())
	}
	checkClosedInTime(t, f, first, time.Now(), "TLS")
	if r := f.event(events.MessageIncomplete, "TLS"); r.Attrs["Gateway"] != "GW1" {
		t.Fatalf("event 9215 names gateway %v; want GW1", r.Attrs["Gateway"])
	}
}

func write(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
}

// slowConn writes byte by byte, 300 ms apart, once slow is set: under TLS,
// a record that takes seconds to arrive.
type slowConn struct {
	net.Conn
	slow atomic.Bool
}

func (c *slowConn) Write(b []byte) (int, error) {
	if !c.slow.Load() {
		return c.Conn.Write(b)
	}
	for i := range b {
		time.Sleep(300 * time.Millisecond)
		if _, err := c.Conn.Write(b[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(b), nil
}

// A trickle below the record layer: the INVITE's first bytes come in one
// TLS record, the next record one byte every 300 ms. The server's Read
// waits inside crypto/tls for the record's end, under the absolute deadline
// it set, so the record's bytes do not put the deadline off either.
func TestTrickledTLSRecordClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, trickleLimits)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, Timeout: 3 * time.Second}
	raw, err := d.Dial("tcp", f.srv.Addrs()["TLS"].String())
	if err != nil {
		t.Fatal(err)
	}
	sc := &slowConn{Conn: raw}
	conn := tls.Client(sc, &tls.Config{Certificates: []tls.Certificate{f.gatewayCert()}, RootCAs: f.roots,
		ServerName: "um.localhost", MinVersion: tls.VersionTLS12})
	t.Cleanup(func() { raw.Close() })
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	write(t, conn, trickleInvite)
	first := time.Now()
	sc.slow.Store(true)
	go func() { _, _ = conn.Write([]byte("never ends")) }()
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); isTimeout(err) {
		t.Fatal("the connection trickling a TLS record is still open 5 s after its first byte")
	}
	checkClosedInTime(t, f, first, time.Now(), "TLS")
}

// waitPeer waits until a connection on transport has been let in: over TLS,
// its handshake is done.
func (f *fixture) waitPeer(transport string) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		found := false
		f.srv.peers.Range(func(k, _ any) bool {
			found = strings.HasPrefix(k.(string), transport+" ")
			return !found
		})
		if found {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s connection let in", transport)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A gateway that writes a message in two parts, keeps the connection alive
// with CRLFs (RFC 5626) and sends its next message long after MessageTimeout
// is served as ever: the bound runs from a message's first byte to its last,
// not while the connection waits between messages.
func TestWholeMessagesInPartsServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, trickleLimits)
	p := f.tcp("127.0.0.2")
	invite := strings.ReplaceAll(`
INVITE sip:5999@um.localhost SIP/2.0
Via: SIP/2.0/TCP LOCAL;branch=z9hG4bKhalves
From: <sip:gw@LOCAL>;tag=1
To: <sip:5999@um.localhost>
Call-ID: halves
CSeq: 1 INVITE
Contact: <sip:gw@LOCAL;transport=tcp>
Max-Forwards: 70
Content-Length: 0

`, "LOCAL", p.conn.LocalAddr().String()) // send writes each \n as CRLF
	p.send(invite[:len(invite)/2])
	time.Sleep(200 * time.Millisecond)
	p.send(invite[len(invite)/2:])
	p.mustStatus(404) // no such pilot: a 4xx, and the message was whole
	for range 3 {
		time.Sleep(600 * time.Millisecond)
		write(t, p.conn, "\r\n\r\n") // ping
		pong := make([]byte, 2)
		_ = p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(p.r, pong); err != nil || string(pong) != "\r\n" {
			t.Fatalf("ping: pong %q, %v", pong, err)
		}
		write(t, p.conn, "\r\n") // a pong of the gateway's own, unasked
	}
	p.request("OPTIONS", "sip:um.localhost", "later", "", "")
	p.mustStatus(200)
	if n := f.count(events.MessageIncomplete); n != 0 {
		t.Fatalf("%d events 9215 for whole messages", n)
	}
}

// The idle timeout still closes a connection that sends nothing, and says
// nothing about an incomplete message.
func TestIdleConnectionClosedQuietly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{MessageTimeout: time.Second, IdleTimeout: 1500 * time.Millisecond})
	p := f.tcp("127.0.0.2")
	start := time.Now()
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.conn.Read(make([]byte, 1)); isTimeout(err) {
		t.Fatal("an idle connection is still open after 5 s")
	}
	if took := time.Since(start); took < 1400*time.Millisecond {
		t.Fatalf("an idle connection was closed after %v, before its 1.5 s idle timeout", took)
	}
	if n := f.count(events.MessageIncomplete); n != 0 {
		t.Fatalf("%d events 9215 for an idle connection", n)
	}
}

package testcall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/sip"
)

// Step is one row of a connectivity report. Time is in milliseconds.
type Step struct {
	Step    string
	Success bool
	Time    float64 `json:"TimeMs"`
	Detail  string  // what was seen, or why the step failed
}

// Report is what test connectivity found, step by step, up to the first
// step that failed.
type Report struct {
	Target                 string // host:port called
	Transport              string // TCP or TLS
	MediaSecured           bool
	Steps                  []Step
	EntireOperationSuccess bool
}

// Failed returns the step that failed, or nil when every step succeeded.
func (r *Report) Failed() *Step {
	if r.EntireOperationSuccess || len(r.Steps) == 0 {
		return nil
	}
	return &r.Steps[len(r.Steps)-1]
}

// Connectivity places one test call and reports each step: the TCP
// connection, the TLS handshake and both certificates, SIP OPTIONS, the
// INVITE's answer, media both ways, DTMF and the hang-up. It stops at the
// first failure and when ctx is done; the call hangs up during the
// greeting, so it leaves no voice message.
func (t *Target) Connectivity(ctx context.Context) *Report {
	r := &Report{Target: t.addr, Transport: t.transport, MediaSecured: t.mediaSecured}
	run := func(name string, fn func() (string, error)) bool {
		start := time.Now()
		detail, err := fn()
		s := Step{Step: name, Success: err == nil, Time: float64(time.Since(start).Microseconds()) / 1000, Detail: detail}
		if err != nil {
			s.Detail = err.Error()
		}
		r.Steps = append(r.Steps, s)
		return err == nil
	}
	var conn net.Conn
	ok := run("TCP connect", func() (string, error) {
		var err error
		conn, err = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: t.localIP.AsSlice()}, Timeout: 10 * time.Second}).DialContext(ctx, "tcp", t.addr)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("connected from %s", conn.LocalAddr()), nil
	})
	if ok && t.tls != nil {
		ok = run("TLS handshake", func() (string, error) { return t.handshake(ctx, conn) })
	} else if conn != nil {
		conn.Close()
	}
	if !ok {
		return r
	}
	caller, err := t.caller()
	if err != nil {
		run("SIP OPTIONS", func() (string, error) { return "", err })
		return r
	}
	defer caller.Close()
	if !run("SIP OPTIONS", func() (string, error) {
		status, err := caller.Options(ctx)
		switch {
		case err == nil && status == 503:
			err = errors.New("the server answered 503: it takes no new calls now (stopping, NoNewCalls or Disabled)")
		case err == nil && status != 200:
			err = fmt.Errorf("the server answered %d", status)
		}
		return "200 OK", err
	}) {
		return r
	}
	var call *sip.Outcall
	if !run("INVITE", func() (string, error) {
		var err error
		call, err = caller.Call(ctx, t.phone, t.mediaSecured)
		var rejected *sip.RejectedError
		switch {
		case errors.As(err, &rejected) && rejected.Status == 488:
			return "", fmt.Errorf("488 Not Acceptable Here: no acceptable media (the dial plan's mode needs %s)", map[bool]string{true: "RTP, not SRTP", false: "SRTP: use --media-secured"}[t.mediaSecured])
		case errors.As(err, &rejected):
			return "", fmt.Errorf("%d %s", rejected.Status, rejected.Reason)
		case err != nil:
			return "", err
		}
		return fmt.Sprintf("200 OK in %s, calling %q", call.Setup.Round(time.Millisecond), t.phone), nil
	}) {
		return r
	}
	defer call.Hangup(context.WithoutCancel(ctx))
	if !run("Media round trip", func() (string, error) { return mediaRoundTrip(ctx, call) }) {
		return r
	}
	if !run("DTMF", func() (string, error) {
		return "sent 5 (RFC 4733)", call.Audio.SendDigit('5')
	}) {
		return r
	}
	r.EntireOperationSuccess = run("Hang up", func() (string, error) { return "BYE answered", call.Hangup(ctx) })
	return r
}

// handshake completes TLS with openum's client certificate, checks the
// server's certificate, and waits a moment for the server to refuse ours:
// with TLS 1.3 a refused client certificate shows only after the handshake.
func (t *Target) handshake(ctx context.Context, conn net.Conn) (string, error) {
	defer conn.Close()
	cfg := t.tls.Clone()
	cfg.InsecureSkipVerify = true // verified below, to name the failing step
	cfg.VerifyConnection = nil
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", fmt.Errorf("handshake failed: %w", err)
	}
	state := tc.ConnectionState()
	leaf := state.PeerCertificates[0]
	if _, err := t.trust.Verify(state.PeerCertificates, certs.PeerOptions{Usage: x509.ExtKeyUsageServerAuth, DNSName: t.serverName}); err != nil {
		return "", fmt.Errorf("server certificate %s not trusted: %w", certs.Thumbprint(leaf), err)
	}
	_ = tc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil && !isTimeout(err) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", errors.New("the server closed the connection after the handshake: it knows no gateway or server by this certificate's name (unknown peer)")
		}
		return "", fmt.Errorf("the server refused openum's client certificate %s: %w", t.clientCert.Thumbprint(), err)
	}
	return fmt.Sprintf("%s, %s; server certificate %s (%s) valid for %s; client certificate %s",
		tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), certs.Thumbprint(leaf), leaf.Subject, t.serverName,
		t.clientCert.Thumbprint()), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mediaRoundTrip sends a second of tone and counts the greeting's packets
// coming back.
func mediaRoundTrip(ctx context.Context, call *sip.Outcall) (string, error) {
	received := 0
	done := make(chan error, 1)
	go func() { done <- call.Audio.Play(ctx, tone(time.Second)) }()
	timeout := time.After(3 * time.Second)
loop:
	for {
		select {
		case r, ok := <-call.Audio.Received():
			if !ok {
				break loop
			}
			if r.PCM != nil {
				received++
			}
		case <-timeout:
			break loop
		}
	}
	if err := <-done; err != nil {
		return "", err
	}
	kind := "RTP"
	if call.Local.Crypto != nil {
		kind = "SRTP (" + call.Local.Crypto.Suite + ")"
	}
	detail := fmt.Sprintf("sent 50 %s packets, received %d", kind, received)
	if received == 0 {
		return detail, fmt.Errorf("no media: %s", detail)
	}
	return detail, nil
}

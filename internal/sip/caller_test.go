package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestCallerPlacesCallsInEachMode(t *testing.T) {
	f := newFixture(t, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	tcp, err := NewCaller(CallerConfig{Server: f.srv.Addrs()["TCP"].String(), Transport: "TCP", LocalIP: netip.MustParseAddr("127.0.0.2"), From: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if status, err := tcp.Options(ctx); err != nil || status != 200 {
		t.Fatalf("OPTIONS: %d, %v", status, err)
	}
	call, err := tcp.Call(ctx, "5000", false)
	if err != nil {
		t.Fatal(err)
	}
	if call.Local.Crypto != nil || f.srv.ActiveCalls() != 1 {
		t.Fatalf("an Unsecured call: %+v, %d calls", call.Local, f.srv.ActiveCalls())
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	tlsConf := &tls.Config{Certificates: []tls.Certificate{f.gatewayCert()}, RootCAs: f.roots, ServerName: "um.localhost"}
	secure, err := NewCaller(CallerConfig{Server: f.srv.Addrs()["TLS"].String(), Transport: "TLS", TLS: tlsConf, LocalIP: netip.MustParseAddr("127.0.0.1"), From: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	call, err = secure.Call(ctx, "5002", true)
	if err != nil {
		t.Fatal(err)
	}
	if call.Local.Crypto == nil || call.Local.RemoteCrypto == nil {
		t.Fatal("a Secured call without SRTP keys")
	}
	_ = call.Hangup(ctx)

	// An RTP offer to a Secured plan is refused with 488.
	_, err = secure.Call(ctx, "5002", false)
	var rejected *RejectedError
	if !errors.As(err, &rejected) || rejected.Status != 488 {
		t.Fatalf("RTP to a Secured plan: %v; want 488", err)
	}
}

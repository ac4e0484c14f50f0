package testcall

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/peertest"
)

// target resolves a call over TCP to 127.0.0.1:port.
func target(t *testing.T, port int) *Target {
	t.Helper()
	tg, err := Resolve(&directory.Snapshot{}, Options{RemotePort: port, Phone: "5000"})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// refusingPeer is a SIP peer on loopback TCP that answers OPTIONS with 200
// and every INVITE with status.
func refusingPeer(t *testing.T, status int, reason string) int {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, status, reason, nil))
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); ua.Close() })
	go func() { _ = srv.ServeTCP(l) }()
	return l.Addr().(*net.TCPAddr).Port
}

func TestConnectivityReportsARefusedCall(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
		want   string
	}{
		{403, "Forbidden", "403 Forbidden"},
		{488, "Not Acceptable Here", "use --media-secured"},
	} {
		port := refusingPeer(t, tc.status, tc.reason)
		r := target(t, port).Connectivity(context.Background())
		failed := r.Failed()
		if r.EntireOperationSuccess || failed == nil || failed.Step != "INVITE" || !strings.Contains(failed.Detail, tc.want) {
			t.Fatalf("%d: report %+v; want INVITE to fail with %q", tc.status, r, tc.want)
		}
		if steps := len(r.Steps); steps != 3 || !r.Steps[0].Success || !r.Steps[1].Success {
			t.Fatalf("%d: steps %+v; want TCP connect and OPTIONS to succeed, then INVITE to fail", tc.status, r.Steps)
		}
		if r.Target != "127.0.0.1:"+strconv.Itoa(port) || r.Transport != "TCP" {
			t.Fatalf("%d: target %s over %s", tc.status, r.Target, r.Transport)
		}
	}
}

func TestConnectivityReportsARefusedConnection(t *testing.T) {
	r := target(t, peertest.FreePort(t)).Connectivity(context.Background())
	if failed := r.Failed(); len(r.Steps) != 1 || failed == nil || failed.Step != "TCP connect" || !strings.Contains(failed.Detail, "refused") {
		t.Fatalf("report %+v; want TCP connect to fail, refused", r)
	}
}

// A server that accepts the connection and never answers: the report ends
// at OPTIONS when the time given is up.
func TestConnectivityTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	r := target(t, l.Addr().(*net.TCPAddr).Port).Connectivity(ctx)
	if failed := r.Failed(); failed == nil || failed.Step != "SIP OPTIONS" || !strings.Contains(failed.Detail, "deadline") {
		t.Fatalf("report %+v; want SIP OPTIONS to fail at the deadline", r)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("gave up after %s; the deadline was 1 s", took)
	}
}

package sip

import (
	"log/slog"
	"net"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestAnsweredInviteIsReleased answers an INVITE through sipgo's own
// server transaction and checks what releaseAnsweredInvite leaves: over
// TLS the transaction is ended and its Timer L stopped and forgotten, so
// that nothing holds the transaction for those 32 s; over UDP sipgo keeps
// it for Timer L, to absorb the INVITE's retransmissions, as it should.
//
// Whether the collector then takes the transaction is not checked here:
// the runtime drops a stopped timer's closure when it next cleans its
// timer heap, at once under load (the heap of BenchmarkSippCallsOverMutualTLS
// shows it) but, with a few timers only, possibly not until the timer's
// time.
func TestAnsweredInviteIsReleased(t *testing.T) {
	if !serverTxTimerL.ok {
		t.Fatal("sipgo's ServerTx has no timer_l and mu of the types this work-around knows: see sipgo_timerl.go")
	}
	for _, tc := range []struct {
		transport string
		released  bool
	}{{"TLS", true}, {"UDP", false}} {
		t.Run(tc.transport, func(t *testing.T) {
			tx := answeredInvite(t, tc.transport)
			field, _ := timerL(tx)
			started := *field
			if started == nil {
				t.Fatal("sipgo started no Timer L on the 200: see sipgo_timerl.go, the work-around may be needed no more")
			}
			releaseAnsweredInvite(tx)
			forgotten := *field == nil
			stopped := !started.Stop() // Stop reports whether the timer was still running
			if forgotten != tc.released || stopped != tc.released {
				t.Fatalf("Timer L forgotten %v, stopped %v; want both %v", forgotten, stopped, tc.released)
			}
			ended := false
			select {
			case <-tx.Done():
				ended = true
			default:
			}
			if ended != tc.released {
				t.Fatalf("transaction ended: %v, want %v", ended, tc.released)
			}
		})
	}
}

// answeredInvite returns a server transaction over transport that has
// sent its INVITE's 200.
func answeredInvite(t *testing.T, transport string) *sip.ServerTx {
	t.Helper()
	msg, err := sip.ParseMessage([]byte("INVITE sip:100@um.localhost SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " 127.0.0.1:5999;branch=z9hG4bKrelease\r\n" +
		"From: <sip:gw@localhost>;tag=1\r\nTo: <sip:100@um.localhost>\r\nCall-ID: release\r\n" +
		"CSeq: 1 INVITE\r\nContact: <sip:gw@127.0.0.1:5999>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*sip.Request)
	req.SetTransport(transport)
	tx := sip.NewServerTx("release", req, discardConn{}, slog.New(slog.DiscardHandler))
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
		t.Fatal(err)
	}
	return tx
}

// discardConn is a sip.Connection that sends nowhere.
type discardConn struct{}

func (discardConn) LocalAddr() net.Addr        { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5061} }
func (discardConn) WriteMsg(sip.Message) error { return nil }
func (discardConn) Ref(int) int                { return 1 }
func (discardConn) TryClose() (int, error)     { return 0, nil }
func (discardConn) Close() error               { return nil }

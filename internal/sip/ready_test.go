package sip

import (
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/openum/openum/internal/events"
)

// Config.Ready refuses an admitted call before it is answered, as the
// application says (voice mail with a full disk), with the application's
// event detail; the next call it lets through is answered.
func TestReadyRefusesBeforeAnswer(t *testing.T) {
	var full atomic.Bool
	full.Store(true)
	var asked atomic.Pointer[Call]
	f := newFixture(t, Limits{}, withReady(func(c *Call) *Rejection {
		asked.Store(c)
		if !full.Load() {
			return nil
		}
		return &Rejection{Status: 503, Event: events.CallRefusedDiskFull, RetryAfter: 300, Cause: "disk full",
			Attrs: []slog.Attr{slog.String("callid", c.ID), slog.Uint64("free", 4096)}}
	}))
	p := f.tcp("127.0.0.2")
	p.request("INVITE", "sip:5000@um.localhost", "r1", "", sdpOffer("127.0.0.2", false))
	if res := p.mustStatus(503); res.header.Get("Retry-After") != "300" {
		t.Fatalf("Retry-After %q; want 300", res.header.Get("Retry-After"))
	}
	if c := asked.Load(); c == nil || c.ID != "r1" || c.DialPlan.Name != "OPEN" || c.Gateway.Name != "GW2" || c.Audio != nil {
		t.Fatalf("Ready was asked about %+v", c)
	}
	rec := f.event(events.CallRefusedDiskFull, "disk full")
	if rec.Attrs["callid"] != "r1" || rec.Attrs["free"] != float64(4096) || rec.Attrs["gateway"] != "GW2" || rec.Attrs["status"] != float64(503) {
		t.Errorf("event 9305 %v", rec.Attrs)
	}
	if f.srv.ActiveCalls() != 0 {
		t.Fatalf("%d active calls after a refusal", f.srv.ActiveCalls())
	}
	full.Store(false)
	_, tag := placeCall(t, p, "5000", "r2", sdpOffer("127.0.0.2", false))
	hangUp(t, p, "5000", "r2", tag)
}

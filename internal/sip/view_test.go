package sip

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// A directory change waits for no name server over the names the running
// view resolved less than dnsRefresh ago: the new view keeps their
// addresses (here one the name server would never give) and their age, so
// that housekeeping still resolves them again when due; without a
// previous view, or once due, a name is looked up afresh.
func TestNewViewKeepsFreshLookups(t *testing.T) {
	snap := &directory.Snapshot{}
	if err := fixtureConfig(snap); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prev, err := newView(ctx, snap, "um.localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := prev.lookedUp("localhost"); !ok {
		t.Fatalf("GW1's FQDN localhost was not looked up: %v", prev.resolved)
	}
	kept := netip.MustParseAddr("127.0.0.77")
	prev.resolved["localhost"] = []netip.Addr{kept}
	prev.built = time.Now().Add(-time.Second)

	v, err := newView(ctx, snap, "um.localhost", prev)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := v.peerAt(kept); !ok || p.Gateway != "GW1" || !v.built.Equal(prev.built) {
		t.Fatalf("the new view's %s is %+v (%v), built %v; want GW1, as the running view resolved it at %v", kept, p, ok, v.built, prev.built)
	}
	prev.built = time.Now().Add(-dnsRefresh - time.Second)
	if v, _ = newView(ctx, snap, "um.localhost", prev); v.byIP[kept] != "" || v.byIP[netip.MustParseAddr("127.0.0.1")] != "GW1" {
		t.Fatalf("a lookup due again was kept: %v", v.byIP)
	}
}

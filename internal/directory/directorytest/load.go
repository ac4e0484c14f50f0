package directorytest

import (
	"context"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Two handles are two servers: each sees the other's last row, one row a
// server whatever the case of its name, the time kept to the millisecond;
// the board is not configuration (no audit record, no new Version).
func testLoadBoard(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	da, db := open(t), open(t)
	a, ok := da.(directory.LoadBoard)
	b, ok2 := db.(directory.LoadBoard)
	if !ok || !ok2 {
		t.Fatalf("%T keeps no load board (directory.LoadBoard)", da)
	}
	version, _ := da.Version(ctx)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC)
	um1 := directory.Load{Server: "um1.example.test", Calls: 3, MaxCallsAllowed: 100, Status: directory.Enabled, TCPPort: 5060, TLSPort: 5061, Updated: at}
	um2 := directory.Load{Server: "um2.example.test", MaxCallsAllowed: 10, Status: directory.NoNewCalls, Draining: true, TLSPort: 5071, Updated: at}
	for _, p := range []struct {
		b directory.LoadBoard
		l directory.Load
	}{{a, um1}, {b, um2}, {a, um1}} {
		if err := p.b.PublishLoad(ctx, p.l); err != nil {
			t.Fatal(err)
		}
	}
	um1.Calls, um1.Updated = 4, at.Add(3*time.Second)
	again := um1
	again.Server = "UM1.example.test"
	if err := b.PublishLoad(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err := a.ReadLoads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("loads: %+v; want one row for each of 2 servers", got)
	}
	for i, want := range []directory.Load{um1, um2} {
		g := got[i]
		if !directory.SameName(g.Server, want.Server) || g.Calls != want.Calls || g.MaxCallsAllowed != want.MaxCallsAllowed ||
			g.Status != want.Status || g.Draining != want.Draining || g.TCPPort != want.TCPPort || g.TLSPort != want.TLSPort ||
			!g.Updated.Equal(want.Updated) {
			t.Errorf("load %d: %+v; want %+v", i, g, want)
		}
	}
	if v, _ := db.Version(ctx); v != version {
		t.Fatalf("the load board moved the directory's version from %d to %d", version, v)
	}
	if log, _ := da.Audit(ctx); len(log) != 0 {
		t.Fatalf("the load board is audited: %+v", log)
	}
}

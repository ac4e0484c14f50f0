package directorytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Two handles, as two openum processes: every concurrent write of another
// object lands.
func testConcurrentWriters(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	a, b := open(t), open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		d := a
		if i%2 == 1 {
			d = b
		}
		wg.Go(func() {
			_, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error {
				g := directory.NewIPGateway(fmt.Sprintf("GW%02d", i))
				g.Address = "gw.example.test"
				return s.AddIPGateway(g)
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if snap := snapshot(t, b); len(snap.IPGateways) != 20 {
		t.Fatalf("%d gateways; want 20", len(snap.IPGateways))
	}
	if log, _ := a.Audit(ctx); len(log) != 20 {
		t.Fatalf("%d audit records; want 20", len(log))
	}
}

// Two processes change one dial plan at the same moment, each counting a
// field up from what it read. No change is lost: either both land one
// after the other, or (an optimistic engine) one lands and the other is
// refused with a ConflictError naming the dial plan, having written
// nothing, audit record included.
func testSameObjectAtOnce(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	a, b := open(t), open(t)
	Seed(t, a)
	bump := func(s *directory.Snapshot) error {
		dp, err := s.DialPlan("DP1")
		if err == nil {
			dp.IdleTimeout++
		}
		return err
	}
	errs := atOnce(a, b, bump, bump)
	landed := 0
	for _, err := range errs {
		var conflict *directory.ConflictError
		switch {
		case err == nil:
			landed++
		case errors.As(err, &conflict) && conflict.Object == directory.Ref{Kind: directory.KindDialPlan, Name: "DP1"}:
		default:
			t.Fatalf("concurrent change: %v; want success or a ConflictError on dialplan DP1", err)
		}
	}
	want := 2
	if e.Optimistic {
		want = 1
	}
	if landed != want {
		t.Fatalf("%d of 2 concurrent changes landed; want %d", landed, want)
	}
	dp, _ := snapshot(t, b).DialPlan("DP1")
	if dp.IdleTimeout != 10+landed {
		t.Fatalf("IdleTimeout %d after %d changes landed; want %d (a change was lost)", dp.IdleTimeout, landed, 10+landed)
	}
	if log, _ := a.Audit(ctx); len(log) != 1+landed {
		t.Fatalf("%d audit records; want %d", len(log), 1+landed)
	}
}

// Two processes each add a mailbox at the same moment, with one extension:
// the rule that an extension is unique in its dial plan spans both, and
// holds. One lands, the other is refused as if it came second.
func testRuleAcrossWriters(t *testing.T, e Engine) {
	open := e.New(t)
	a, b := open(t), open(t)
	Seed(t, a)
	add := func(email string) func(*directory.Snapshot) error {
		return func(s *directory.Snapshot) error {
			return s.AddMailbox(directory.Mailbox{EmailAddress: email, UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{"12346"}})
		}
	}
	errs := atOnce(a, b, add("bob@example.test"), add("carol@example.test"))
	var fe *directory.FieldError
	if (errs[0] == nil) == (errs[1] == nil) || !errors.As(errors.Join(errs[:]...), &fe) || fe.Field != "Extensions" {
		t.Fatalf("two mailboxes at one extension at once: %v; want one to land and the other a FieldError on Extensions", errs)
	}
	if snap := snapshot(t, b); snap.Mailboxes.Len() != 2 {
		t.Fatalf("%d mailboxes; want alice and one of bob and carol", snap.Mailboxes.Len())
	}
}

// atOnce runs fa in an Update of a and fb in one of b at the same moment:
// each function waits for the other to have begun, or half a second when
// the engine lets the other begin only after it committed (writers that
// take turns). It returns both Updates' errors.
func atOnce(a, b directory.Directory, fa, fb func(*directory.Snapshot) error) [2]error {
	var entered sync.WaitGroup
	entered.Add(2)
	both := make(chan struct{})
	go func() { entered.Wait(); close(both) }()
	update := func(d directory.Directory, fn func(*directory.Snapshot) error) error {
		var once sync.Once
		_, err := d.Update(context.Background(), Admin, func(s *directory.Snapshot) error {
			once.Do(entered.Done)
			select {
			case <-both:
			case <-time.After(500 * time.Millisecond):
			}
			return fn(s)
		})
		return err
	}
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = update(a, fa) })
	wg.Go(func() { errs[1] = update(b, fb) })
	wg.Wait()
	return errs
}

// Version changes when another process writes, and only then: reading, or
// an update that changes nothing, leaves it as it was.
func testVersion(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	d, other := open(t), open(t)
	Seed(t, d)
	v1, err := d.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snapshot(t, d)
	if _, err := d.Update(ctx, Admin, func(*directory.Snapshot) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Version(ctx); v != v1 {
		t.Fatalf("version %d after a read and an empty update; want %d", v, v1)
	}
	addGateway(t, other, "GW1")
	if v, _ := d.Version(ctx); v == v1 {
		t.Fatalf("version still %d after another process added a gateway", v)
	}
	log, err := d.Audit(ctx)
	if err != nil || len(log) != 2 {
		t.Fatalf("audit: %v, %v; want the seed and the gateway", log, err)
	}
	last := log[1]
	if last.User != Admin.User || last.Command != Admin.Command || time.Since(last.Time).Abs() > time.Minute ||
		len(last.Changes) != 1 || last.Changes[0].Object.Name != "GW1" || last.Changes[0].Action != directory.Added {
		t.Fatalf("audit record of the gateway: %+v", last)
	}
}

func addGateway(t *testing.T, d directory.Directory, name string) {
	t.Helper()
	_, err := d.Update(context.Background(), Admin, func(snap *directory.Snapshot) error {
		g := directory.NewIPGateway(name)
		g.Address = "192.0.2.1"
		return snap.AddIPGateway(g)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// counting is a directory that counts the snapshots read.
type counting struct {
	directory.Directory
	reads atomic.Int32
}

func (c *counting) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	c.reads.Add(1)
	return c.Directory.Snapshot(ctx)
}

// The watcher reads the directory only when it changed: ticks with nothing
// new read nothing but the version, and another process's change reaches
// every subscriber at the next Check.
func testWatcher(t *testing.T, e Engine) {
	ctx := context.Background()
	open := e.New(t)
	d, other := &counting{Directory: open(t)}, open(t)
	Seed(t, d)
	w := directory.NewWatcher(d)
	if _, err := w.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	var got []*directory.Snapshot
	w.Subscribe(func(_ context.Context, snap *directory.Snapshot) error { got = append(got, snap); return nil })
	check := func(times int) {
		t.Helper()
		for range times {
			if err := w.Check(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(5)
	if n := d.reads.Load(); n != 1 || len(got) != 0 {
		t.Fatalf("%d snapshots read, %d handed on with nothing changed; want the first read only", n, len(got))
	}
	addGateway(t, other, "GW1")
	check(3)
	if n := d.reads.Load(); n != 2 || len(got) != 1 {
		t.Fatalf("%d snapshots read, %d handed on after one change; want 2 and 1", n, len(got))
	}
	if _, err := got[0].IPGateway("GW1"); err != nil {
		t.Fatalf("the subscriber did not get the other process's gateway: %v", err)
	}
	// Other readers get the running configuration, which reads nothing
	// and hides no change from the next Check.
	if snap, err := w.Snapshot(ctx); err != nil || snap != got[0] || d.reads.Load() != 2 {
		t.Fatalf("Snapshot: %v; want the configuration last handed on, not read again", err)
	}
	addGateway(t, other, "GW2")
	if _, err := w.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(ctx); err != nil || len(got) != 2 {
		t.Fatalf("Check after Snapshot: %v, %d snapshots handed on; want the change to GW2 too", err, len(got))
	}
	// SIGHUP: read and hand on, changed or not.
	if err := w.Reload(ctx); err != nil || len(got) != 3 {
		t.Fatalf("Reload: %v, %d snapshots handed on; want 3", err, len(got))
	}
}

// An engine that can tell of changes (directory.Notifier) wakes a watcher
// within a second of another process's change, well before a poll would.
func testNotifier(t *testing.T, e Engine) {
	open := e.New(t)
	d, other := open(t), open(t)
	w := directory.NewWatcher(d)
	changed := w.Changed()
	if _, ok := d.(directory.Notifier); !ok {
		if changed != nil {
			t.Fatal("Changed of a directory that cannot tell: want nil")
		}
		t.Skip("this engine cannot tell of changes; a watcher polls Version")
	}
	// The first signal says the listener is connected (and asks to check
	// for what it may have missed).
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("the listener did not connect within 5 s")
	}
	start := time.Now()
	addGateway(t, other, "GW1")
	select {
	case <-changed:
		t.Logf("a change by another process was told in %v", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("no notification within 1 s of another process's change")
	}
}

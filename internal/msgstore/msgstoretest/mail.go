package msgstoretest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

// saveMail saves a message for alice with its mail job id, held by owner
// for lease (negative: expired already).
func saveMail(t *testing.T, s msgstore.Store, id, owner string, lease time.Duration) msgstore.Message {
	t.Helper()
	m, err := s.Save(context.Background(), directory.Actor{}, msgstore.Message{
		Mailbox: "alice@example.test", CallID: id + "@gw",
		Mail: &msgstore.MailJob{ID: id, Owner: owner, Note: []byte(`{"ID":"` + id + `"}`), Lease: lease},
	}, Recording(t, 800, 3))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ledgers(t *testing.T, e Engine) (um1, um2 msgstore.MailLedger, store msgstore.Store) {
	addr := e.New(t)
	s1, s2 := e.open(t, addr), e.open(t, addr)
	l1, ok1 := s1.(msgstore.MailLedger)
	l2, ok2 := s2.(msgstore.MailLedger)
	if !ok1 || !ok2 {
		t.Fatal("the engine keeps no mail ledger")
	}
	return l1, l2, s1
}

// A mail job's lease: its saver holds it, another server waits until it
// expires, then takes it over; from then the first can neither note an
// attempt nor mark it delivered, and once delivered nobody claims it.
func testMailLease(t *testing.T, e Engine) {
	ctx := context.Background()
	um1, um2, store := ledgers(t, e)
	m := saveMail(t, store, "j1", "um1", time.Hour)
	claim := func(l msgstore.MailLedger, owner string, want msgstore.Claim) {
		t.Helper()
		if got, err := l.Claim(ctx, "j1", owner, time.Hour); err != nil || got != want {
			t.Fatalf("%s claims j1: %v, %v; want %v", owner, got, err, want)
		}
	}
	claim(um2, "um2", msgstore.ClaimBusy)
	claim(um1, "um1", msgstore.ClaimHeld)
	if jobs, err := um2.Claimable(ctx, "um2", 10); err != nil || len(jobs) != 0 {
		t.Fatalf("um2 may claim %+v, %v; want nothing while um1's lease lasts", jobs, err)
	}
	if jobs, err := um1.Claimable(ctx, "um1", 10); err != nil || len(jobs) != 1 || jobs[0].Message != m.ID || string(jobs[0].Note) != `{"ID":"j1"}` {
		t.Fatalf("um1 may claim %+v, %v; want its job with its note", jobs, err)
	}
	// um1 stops renewing: its lease runs out.
	if n, err := um1.Renew(ctx, "um1", -time.Second); err != nil || n != 1 {
		t.Fatalf("Renew = %d, %v; want 1", n, err)
	}
	jobs, err := um2.Claimable(ctx, "um2", 10)
	if err != nil || len(jobs) != 1 || jobs[0].Owner != "um1" {
		t.Fatalf("um2 may claim %+v, %v; want um1's expired job", jobs, err)
	}
	claim(um2, "um2", msgstore.ClaimHeld)
	claim(um1, "um1", msgstore.ClaimBusy)
	if n, _ := um1.Renew(ctx, "um1", time.Hour); n != 0 {
		t.Fatalf("um1 renewed %d leases it lost", n)
	}
	if err := um1.SetNote(ctx, "j1", "um1", []byte("{}")); !errors.Is(err, msgstore.ErrLeaseLost) {
		t.Fatalf("um1 notes an attempt on a job it lost: %v; want ErrLeaseLost", err)
	}
	if err := um1.Delivered(ctx, "j1", "um1"); !errors.Is(err, msgstore.ErrLeaseLost) {
		t.Fatalf("um1 marks delivered a job it lost: %v; want ErrLeaseLost", err)
	}
	if err := um2.SetNote(ctx, "j1", "um2", []byte(`{"ID":"j1","Attempts":1}`)); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := um2.Claimable(ctx, "um2", 10); len(jobs) != 1 || string(jobs[0].Note) != `{"ID":"j1","Attempts":1}` {
		t.Fatalf("after SetNote: %+v", jobs)
	}
	if err := um2.Delivered(ctx, "j1", "um2"); err != nil {
		t.Fatal(err)
	}
	if err := um2.Delivered(ctx, "j1", "um2"); err != nil {
		t.Fatalf("marking delivered again: %v", err)
	}
	claim(um1, "um1", msgstore.ClaimDelivered)
	claim(um2, "um2", msgstore.ClaimDelivered)
	for _, l := range []msgstore.MailLedger{um1, um2} {
		if jobs, _ := l.Claimable(ctx, "um1", 10); len(jobs) != 0 {
			t.Fatalf("a delivered job is claimable: %+v", jobs)
		}
	}
	if got, err := um1.Claim(ctx, "never-spooled", "um1", time.Hour); err != nil || got != msgstore.ClaimUnknown {
		t.Fatalf("claim of an unknown job: %v, %v; want ClaimUnknown", got, err)
	}
}

// Two servers take over a dead server's expired jobs at once: each job
// goes to one of them.
func testMailTakeoverRace(t *testing.T, e Engine) {
	ctx := context.Background()
	um1, um2, store := ledgers(t, e)
	const n = 12
	for i := range n {
		saveMail(t, store, fmt.Sprintf("dead-%d", i), "um0", -time.Second)
	}
	var held [n]atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{}) // both have listed every job before either claims one
	for i, l := range []msgstore.MailLedger{um1, um2} {
		owner := fmt.Sprintf("um%d", i+1)
		jobs, err := l.Claimable(ctx, owner, 100)
		if err != nil || len(jobs) != n {
			close(start)
			t.Fatalf("%s may claim %d jobs, %v; want %d", owner, len(jobs), err, n)
		}
		wg.Go(func() {
			<-start
			for _, j := range jobs {
				var k int
				fmt.Sscanf(j.ID, "dead-%d", &k)
				c, err := l.Claim(ctx, j.ID, owner, time.Hour)
				if err != nil {
					t.Error(err)
				}
				if c == msgstore.ClaimHeld {
					held[k].Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range held {
		if got := held[i].Load(); got != 1 {
			t.Errorf("job dead-%d held by %d servers; want 1", i, got)
		}
	}
}

// A job whose note cannot be read is set aside from Claimable, not lost:
// a spool's copy still claims it. A purged message takes its job along.
func testMailQuarantineAndPurge(t *testing.T, e Engine) {
	ctx := context.Background()
	um1, _, store := ledgers(t, e)
	m := saveMail(t, store, "q1", "um1", time.Hour)
	if err := um1.Quarantine(ctx, "q1", "not JSON"); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := um1.Claimable(ctx, "um1", 10); len(jobs) != 0 {
		t.Fatalf("a quarantined job is claimable: %+v", jobs)
	}
	if c, err := um1.Claim(ctx, "q1", "um1", time.Hour); err != nil || c != msgstore.ClaimHeld {
		t.Fatalf("claim of a quarantined job: %v, %v; want ClaimHeld", c, err)
	}
	if _, err := store.SetState(ctx, admin, m.ID, msgstore.Deleted, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := store.Purge(ctx, admin, time.Now(), func(string) time.Duration { return 0 }); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if c, err := um1.Claim(ctx, "q1", "um1", time.Hour); err != nil || c != msgstore.ClaimUnknown {
		t.Fatalf("claim after the purge: %v, %v; want ClaimUnknown", c, err)
	}
	if err := um1.Delivered(ctx, "q1", "um1"); err != nil {
		t.Fatalf("Delivered after the purge: %v", err)
	}
}

// Message waiting: of the servers announcing the same counts, one claims
// them; new counts are claimed again, also by another server.
func testClaimNotify(t *testing.T, e Engine) {
	ctx := context.Background()
	addr := e.New(t)
	var claims []msgstore.NotifyClaims
	for range 4 {
		c, ok := e.open(t, addr).(msgstore.NotifyClaims)
		if !ok {
			t.Fatal("the engine keeps no message waiting claims")
		}
		claims = append(claims, c)
	}
	race := func(c msgstore.Counts) int {
		var won atomic.Int32
		var wg sync.WaitGroup
		for i, cl := range claims {
			wg.Go(func() {
				ok, err := cl.ClaimNotify(ctx, "alice@example.test", c, fmt.Sprintf("um%d", i))
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		return int(won.Load())
	}
	for _, c := range []msgstore.Counts{{New: 1}, {New: 2}, {New: 1, Saved: 1}, {}} {
		if n := race(c); n != 1 {
			t.Fatalf("%+v claimed by %d servers; want 1", c, n)
		}
		if n := race(c); n != 0 {
			t.Fatalf("%+v claimed again by %d servers; want none", c, n)
		}
	}
	if ok, err := claims[0].ClaimNotify(ctx, "bob@example.test", msgstore.Counts{}, "um0"); err != nil || !ok {
		t.Fatalf("another mailbox's first counts: %v, %v; want claimed", ok, err)
	}
}

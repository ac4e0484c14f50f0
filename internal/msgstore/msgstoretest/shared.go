package msgstoretest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

// Version moves with every save, state change and purge, also those made
// through another handle on the file (another process: the command line);
// Counts follows.
func testVersionAndCounts(t *testing.T, e Engine) {
	ctx := context.Background()
	addr := e.New(t)
	s, other := e.open(t, addr), e.open(t, addr)
	last, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	moved := func(what string) {
		t.Helper()
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == last {
			t.Fatalf("%s: the version stays %d", what, v)
		}
		last = v
	}
	counts := func(want map[string]msgstore.Counts) {
		t.Helper()
		got, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("counts %v; want %v", got, want)
		}
		for k, c := range want {
			if got[k] != c {
				t.Fatalf("counts %v; want %v", got, want)
			}
		}
	}
	a := Save(t, s, "Alice@example.com", t0, 800)
	moved("save")
	Save(t, s, "alice@example.com", t0.Add(time.Minute), 800)
	counts(map[string]msgstore.Counts{"alice@example.com": {New: 2}})
	if _, err := other.SetState(ctx, admin, a.ID, msgstore.Saved, t0); err != nil {
		t.Fatal(err)
	}
	moved("saved by another handle")
	counts(map[string]msgstore.Counts{"alice@example.com": {New: 1, Saved: 1}})
	if _, err := other.SetState(ctx, admin, a.ID, msgstore.Saved, t0); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v != last {
		t.Fatal("setting the state a message has moved the version")
	}
	if _, err := other.SetState(ctx, admin, a.ID, msgstore.Deleted, t0); err != nil {
		t.Fatal(err)
	}
	moved("deleted")
	counts(map[string]msgstore.Counts{"alice@example.com": {New: 1}})
	if n, err := other.Purge(ctx, admin, t0.Add(time.Hour), func(string) time.Duration { return 0 }); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	moved("purge")
}

// Two servers on one store: each sees the other's saves and state changes
// at once, their Version moves with them, and the same message moved by
// both at the same moment keeps one history, one state change each.
func testTwoServers(t *testing.T, e Engine) {
	ctx := context.Background()
	addr := e.New(t)
	um1, um2 := e.open(t, addr), e.open(t, addr)
	before, _ := um2.Version(ctx)
	m := Save(t, um1, "alice@example.test", t0, 800)
	if v, _ := um2.Version(ctx); v == before {
		t.Fatal("a save on um1 does not move um2's version")
	}
	if list, err := um2.List(ctx, "alice@example.test", msgstore.New); err != nil || len(list) != 1 || list[0].ID != m.ID {
		t.Fatalf("um2 lists %+v, %v; want um1's message", list, err)
	}
	if audio, err := um2.Audio(ctx, m.ID); err != nil || int64(len(audio)) != m.Size {
		t.Fatalf("um2 reads %d bytes of audio, %v; want %d", len(audio), err, m.Size)
	}
	before, _ = um1.Version(ctx)
	if _, err := um2.SetState(ctx, admin, m.ID, msgstore.Saved, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, _ := um1.Version(ctx); v == before {
		t.Fatal("a state change on um2 does not move um1's version")
	}
	if got, err := um1.Get(ctx, m.ID); err != nil || got.State != msgstore.Saved || len(got.History) != 2 {
		t.Fatalf("um1 gets %+v, %v; want it saved", got, err)
	}
	// Both delete it at once: one changes it, the other finds it deleted.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []msgstore.Store{um1, um2} {
		wg.Go(func() {
			_, errs[i] = s.SetState(ctx, directory.Actor{User: "test", Command: "server " + string(rune('1'+i))}, m.ID, msgstore.Deleted, t0.Add(time.Hour))
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent deletes: %v, %v", errs[0], errs[1])
	}
	got, _ := um1.Get(ctx, m.ID)
	log, _ := um2.Audit(ctx)
	if got.State != msgstore.Deleted || len(got.History) != 3 || len(log) != 2 {
		t.Fatalf("after two concurrent deletes: %+v, %d audit records; want one deletion", got, len(log))
	}
	// Saves from both at once get IDs of their own.
	wav := Recording(t, 800, 2)
	saveErrs := make([]error, 8)
	for i := range saveErrs {
		wg.Go(func() {
			_, saveErrs[i] = []msgstore.Store{um1, um2}[i%2].Save(ctx, directory.Actor{}, msgstore.Message{Mailbox: "bob@example.test"}, wav)
		})
	}
	wg.Wait()
	if list, _ := um1.List(ctx, "bob@example.test", ""); len(list) != len(saveErrs) {
		t.Fatalf("%d of %d concurrent saves listed (%v)", len(list), len(saveErrs), saveErrs)
	}
}

package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/openum/openum/internal/msgstore"
)

// Version moves with every save, state change and purge, also those made
// through another handle on the file (another process: the command line);
// Counts follows.
func TestVersionAndCountsSeeOtherHandles(t *testing.T) {
	ctx := context.Background()
	s, file := newStore(t)
	other, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
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
	a := save(t, s, "Alice@example.com", t0, 800)
	moved("save")
	save(t, s, "alice@example.com", t0.Add(time.Minute), 800)
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

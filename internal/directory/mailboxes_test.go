package directory

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

func addresses(l *MailboxList) []string {
	var out []string
	for _, m := range l.All() {
		out = append(out, m.EmailAddress)
	}
	return out
}

func numbered(n int) []Mailbox {
	out := make([]Mailbox, n)
	for i := range out {
		out[i] = Mailbox{EmailAddress: fmt.Sprintf("u%05d@x.test", i)}
	}
	return out
}

// A clone and its original change apart, across chunks that split and
// empty: neither sees the other's change, whichever changes first.
func TestMailboxListClonesChangeApart(t *testing.T) {
	orig := MailboxesOf(numbered(3 * chunkSize)...)
	want := addresses(&orig)
	clone := orig.clone()
	for i := range chunkSize + 1 { // splits a chunk
		if err := clone.add(Mailbox{EmailAddress: fmt.Sprintf("u00100-%03d@x.test", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 2 * chunkSize; i < 3*chunkSize; i++ { // empties the last chunk
		if !clone.remove(fmt.Sprintf("U%05d@X.test", i)) {
			t.Fatalf("u%05d not removed", i)
		}
	}
	clone.edit("u00000@x.test").DisplayName = "changed"
	if got := addresses(&orig); !slices.Equal(got, want) || orig.find("u00000@x.test").DisplayName != "" {
		t.Fatal("the original changed with its clone")
	}
	if got := addresses(&clone); len(got) != 3*chunkSize+1 || clone.Len() != len(got) || !slices.IsSorted(got) {
		t.Fatalf("the clone: %d mailboxes (Len %d), sorted %v", len(got), clone.Len(), slices.IsSorted(got))
	}

	// The original changed after it was cloned: the clone keeps what it had.
	before := addresses(&clone)
	orig.edit("u00300@x.test").DisplayName = "orig"
	orig.remove("u00001@x.test")
	if got := addresses(&clone); !slices.Equal(got, before) || clone.find("u00300@x.test").DisplayName != "" {
		t.Fatal("the clone changed with its original")
	}

	// A copied value is not the list's owner: its change is copied.
	copied := clone
	copied.edit("u00002@x.test").DisplayName = "copy"
	if clone.find("u00002@x.test").DisplayName != "" {
		t.Fatal("a copy of the list changed the list")
	}
}

// Diff finds every change to a clone of a large list, including those
// that split or emptied chunks, and only those.
func TestDiffMailboxesFindsTheChanges(t *testing.T) {
	old := &Snapshot{Mailboxes: MailboxesOf(numbered(4 * chunkSize)...)}
	next := old.Clone()
	for i := range chunkSize + 1 {
		_ = next.AddMailbox(Mailbox{EmailAddress: fmt.Sprintf("u00500-%03d@x.test", i)})
	}
	for i := 3 * chunkSize; i < 4*chunkSize; i++ {
		next.Mailboxes.remove(fmt.Sprintf("u%05d@x.test", i))
	}
	m, _ := next.Mailbox("u00010@x.test")
	m.DisplayName = "ten"
	var added, removed, changed int
	for _, c := range Diff(old, next) {
		switch c.Action {
		case Added:
			added++
		case Removed:
			removed++
		case Changed:
			changed++
			if c.Object.Name != "u00010@x.test" {
				t.Errorf("changed %s", c.Object.Name)
			}
		}
	}
	if added != chunkSize+1 || removed != chunkSize || changed != 1 {
		t.Fatalf("%d added, %d removed, %d changed; want %d, %d, 1", added, removed, changed, chunkSize+1, chunkSize)
	}
}

// Prepare copies in proportion to what its function changes, not to the
// directory: adding one mailbox to 50,000 allocates far less than one copy
// of them (which cloning every mailbox per Update did).
func TestPrepareCopiesInProportion(t *testing.T) {
	const n = 50000
	dp := NewDialPlan("DP")
	dp.NumberOfDigitsInExtension = 6
	s := &Snapshot{DialPlans: []DialPlan{dp}, MailboxPolicies: []MailboxPolicy{NewMailboxPolicy("P", "DP")}}
	all := make([]Mailbox, n)
	for i := range all {
		all[i] = Mailbox{EmailAddress: fmt.Sprintf("u%06d@x.test", i), UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: List[string]{fmt.Sprintf("%06d", i)}}
	}
	s.Mailboxes = MailboxesOf(all...)
	var c Cache
	c.Put(s, 1, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, changes, err := Prepare(s, func(s *Snapshot) error {
		return s.AddMailbox(Mailbox{EmailAddress: "new@x.test", UMDialPlan: "dp", UMMailboxPolicy: "p", Extensions: List[string]{"999999"}})
	})
	runtime.ReadMemStats(&after)
	if err != nil || len(changes) != 1 {
		t.Fatalf("%v, %v", changes, err)
	}
	one := uint64(n) * uint64(unsafe.Sizeof(Mailbox{}))
	if got := after.TotalAlloc - before.TotalAlloc; got > one/10 {
		t.Fatalf("Prepare allocated %d bytes; a copy of the mailboxes is %d", got, one)
	}
}

// A frozen list (a Watcher's) is read by many at once without a race:
// Mailbox copies nothing.
func TestFrozenMailboxesReadConcurrently(t *testing.T) {
	s := (&Snapshot{Mailboxes: MailboxesOf(numbered(2 * chunkSize)...)}).Clone()
	s.Mailboxes.freeze()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2 * chunkSize {
				if m, err := s.Mailbox(fmt.Sprintf("u%05d@x.test", (i+g*7)%(2*chunkSize))); err != nil || m == nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// A configuration after many changes, each to one mailbox, holds about
// what the first did: neither the chunks copied on the way nor the
// mailboxes they replaced stay alive through the extension index.
func TestManyChangesKeepMemory(t *testing.T) {
	const n, changes = 20000, 1000
	dp := NewDialPlan("DP")
	dp.NumberOfDigitsInExtension = 6
	all := make([]Mailbox, n)
	for i := range all {
		all[i] = Mailbox{EmailAddress: fmt.Sprintf("u%06d@x.test", i), UMDialPlan: "DP", UMMailboxPolicy: "P", Extensions: List[string]{fmt.Sprintf("%06d", i)}}
	}
	s := &Snapshot{DialPlans: []DialPlan{dp}, MailboxPolicies: []MailboxPolicy{NewMailboxPolicy("P", "DP")}, Mailboxes: MailboxesOf(all...)}
	all = nil
	var c Cache
	c.Put(s, 1, 1)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range changes {
		next, _, err := Prepare(s, func(s *Snapshot) error {
			m, err := s.Mailbox(fmt.Sprintf("u%06d@x.test", i*7919%n))
			if err == nil {
				m.DisplayName = fmt.Sprint("changed ", i)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Put(next, uint64(i+2), int64(i+2))
		s = next
	}
	one := uint64(n) * uint64(unsafe.Sizeof(Mailbox{}))
	grew := int64(heap()) - int64(before)
	if grew > int64(one/2) {
		t.Fatalf("the heap grew by %d bytes over %d changes; the mailboxes are %d", grew, changes, one)
	}
	t.Logf("the heap grew by %d bytes over %d changes; the mailboxes are %d", grew, changes, one)
	runtime.KeepAlive(s)
}

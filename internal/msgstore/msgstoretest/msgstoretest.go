// Package msgstoretest is the conformance suite of message store engines:
// one set of behavioural tests that every msgstore.Store (SQLite,
// PostgreSQL) must pass, run from each engine's own tests with Run, and the
// kill -9 tests, whose helper process each engine's TestCrashHelper runs.
package msgstoretest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/storetest"
)

// Engine is what the suite needs of a message store engine.
type Engine struct {
	// New makes a new, empty store for t and returns its address: a file,
	// a URL, what Open takes.
	New func(t *testing.T) string
	// Open opens the store at addr as one more openum process would.
	Open func(ctx context.Context, addr string) (msgstore.Store, error)
	// Intact, when set, checks what the engine alone can check of the
	// store at addr after a process writing it was killed (SQLite's
	// integrity_check).
	Intact func(t *testing.T, addr string)
}

// Run runs the suite against e, each test as a subtest of t.
func Run(t *testing.T, e Engine) {
	tests := []struct {
		name string
		fn   func(*testing.T, Engine)
	}{
		{"SaveKeepsEverything", testSaveKeepsEverything},
		{"SaveRefusesWhatIsNotAMessage", testSaveRefuses},
		{"SetStateRecordsHistoryAndAudit", testSetState},
		{"QuotaCountsNewAndSavedMessages", testQuota},
		{"PurgeRemovesDeletedMessagesPastRetention", testPurge},
		{"RunPurgeUsesTheDirectory", testRunPurge},
		{"VersionAndCountsSeeOtherHandles", testVersionAndCounts},
		{"TwoServersSeeEachOther", testTwoServers},
		{"MailLeasePassesOnlyWhenExpired", testMailLease},
		{"MailTakeoverGivesEachJobToOneServer", testMailTakeoverRace},
		{"MailQuarantineAndPurge", testMailQuarantineAndPurge},
		{"ClaimNotifyOncePerCounts", testClaimNotify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, e) })
	}
}

var (
	admin = directory.Actor{User: "test", Command: "openum message remove"}
	t0    = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
)

// open opens the store at addr for t, closed when t ends.
func (e Engine) open(t testing.TB, addr string) msgstore.Store {
	t.Helper()
	return storetest.Open(t, e.Open, addr)
}

// newStore makes a new store and opens it.
func (e Engine) newStore(t *testing.T) msgstore.Store { return e.open(t, e.New(t)) }

// Recording returns a WAV file as openum records it: samples samples, each
// derived from seed, so that a test can tell whose audio it reads.
func Recording(t testing.TB, samples int, seed int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := media.CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, samples)
	for i := range pcm {
		pcm[i] = int16(seed*7919 + i)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Save saves a call's message of samples samples for mailbox.
func Save(t testing.TB, s msgstore.Store, mailbox string, received time.Time, samples int) msgstore.Message {
	t.Helper()
	m, err := s.Save(context.Background(), directory.Actor{}, msgstore.Message{
		Mailbox: mailbox, CallerNumber: "+15550100", CallerName: "Carol Caller", CallID: "call-1@gw", ReceivedAt: received,
	}, Recording(t, samples, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

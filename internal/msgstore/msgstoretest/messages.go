package msgstoretest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

func testSaveKeepsEverything(t *testing.T, e Engine) {
	ctx := context.Background()
	s := e.newStore(t)
	wav := Recording(t, 12000, 3) // 1.5 s
	m, err := s.Save(ctx, directory.Actor{}, msgstore.Message{
		Mailbox: "alice@example.test", CallerNumber: "+15550100", CallerName: "Carol Caller", CallID: "a84b4c76e66710@gw1", ReceivedAt: t0,
	}, wav)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.State != msgstore.New || m.Size != int64(len(wav)) || time.Duration(m.Duration) != 1500*time.Millisecond {
		t.Fatalf("saved %+v", m)
	}
	got, err := s.Get(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mailbox != "alice@example.test" || got.CallerNumber != "+15550100" || got.CallerName != "Carol Caller" ||
		got.CallID != "a84b4c76e66710@gw1" || !got.ReceivedAt.Equal(t0) || got.Duration != m.Duration ||
		len(got.History) != 1 || got.History[0].State != msgstore.New {
		t.Fatalf("Get = %+v; saved %+v", got, m)
	}
	audio, err := s.Audio(ctx, m.ID)
	if err != nil || !bytes.Equal(audio, wav) {
		t.Fatalf("Audio: %d bytes, %v; want the %d bytes saved", len(audio), err, len(wav))
	}
	// The mailbox is matched as the directory matches it, ignoring case.
	if list, err := s.List(ctx, "Alice@Example.TEST", ""); err != nil || len(list) != 1 || list[0].ID != m.ID || list[0].History != nil {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if list, err := s.List(ctx, "alice@example.test", msgstore.Saved); err != nil || len(list) != 0 {
		t.Fatalf("List saved = %+v, %v; want none", list, err)
	}
	if log, err := s.Audit(ctx); err != nil || len(log) != 0 {
		t.Fatalf("a call's message is audited: %+v, %v", log, err)
	}
}

func testSaveRefuses(t *testing.T, e Engine) {
	ctx := context.Background()
	s := e.newStore(t)
	wav := Recording(t, 800, 1)
	stereo := bytes.Clone(wav)
	stereo[22] = 2 // channels
	for name, tc := range map[string]struct {
		m     msgstore.Message
		audio []byte
		want  string
	}{
		"no mailbox": {msgstore.Message{}, wav, "a message needs a mailbox"},
		"not WAV":    {msgstore.Message{Mailbox: "a@example.test"}, []byte("ID3 an mp3"), "not openum's WAV"},
		"stereo":     {msgstore.Message{Mailbox: "a@example.test"}, stereo, "2 channel(s)"},
		"newline":    {msgstore.Message{Mailbox: "a@example.test", CallerName: "x\nEvent: forged"}, wav, "one line"},
	} {
		if _, err := s.Save(ctx, directory.Actor{}, tc.m, tc.audio); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "msgstore: ") {
			t.Errorf("%s: Save = %v; want an error saying %q", name, err, tc.want)
		}
	}
	if list, _ := s.List(ctx, "a@example.test", ""); len(list) != 0 {
		t.Fatalf("refused messages were stored: %+v", list)
	}
}

func testSetState(t *testing.T, e Engine) {
	ctx := context.Background()
	s := e.newStore(t)
	m := Save(t, s, "alice@example.test", t0, 800)
	if _, err := s.SetState(ctx, admin, m.ID, msgstore.Saved, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.SetState(ctx, admin, m.ID, "DELETED", t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.State != msgstore.Deleted || !got.StateChanged.Equal(t0.Add(2*time.Hour)) || len(got.History) != 3 {
		t.Fatalf("after save and delete: %+v", got)
	}
	// Setting the state again changes nothing, and is not audited.
	if _, err := s.SetState(ctx, admin, m.ID, msgstore.Deleted, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	reread, _ := s.Get(ctx, m.ID)
	if len(reread.History) != 3 || !reread.StateChanged.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("a repeated state was recorded: %+v", reread)
	}
	log, err := s.Audit(ctx)
	if err != nil || len(log) != 2 {
		t.Fatalf("audit = %+v, %v; want 2 records", log, err)
	}
	c := log[1].Changes[0]
	if log[1].User != "test" || c.Object.Kind != msgstore.KindMessage || !strings.Contains(c.Object.Name, "alice@example.test") ||
		c.Fields[0].Field != "State" || string(c.Fields[0].Old) != `"saved"` || string(c.Fields[0].New) != `"deleted"` {
		t.Fatalf("audit record %+v", log[1])
	}
	var nf *msgstore.NotFoundError
	if _, err := s.SetState(ctx, admin, 999, msgstore.Saved, t0); !errors.As(err, &nf) || err.Error() != "msgstore: message 999 does not exist" {
		t.Fatalf("SetState of no message: %v", err)
	}
	if _, err := s.Get(ctx, 999); !errors.As(err, &nf) {
		t.Fatalf("Get of no message: %v", err)
	}
	if _, err := s.SetState(ctx, admin, m.ID, "heard", t0); err == nil || !strings.Contains(err.Error(), "must be one of new, saved, deleted") {
		t.Fatalf("SetState heard: %v", err)
	}
}

func testQuota(t *testing.T, e Engine) {
	ctx := context.Background()
	s := e.newStore(t)
	p := directory.NewMailboxPolicy("P1", "DP1")
	p.MaxMessages = 2
	box := "alice@example.test"
	if err := msgstore.CheckQuota(ctx, s, box, p); err != nil {
		t.Fatalf("empty mailbox: %v", err)
	}
	a := Save(t, s, box, t0, 800)
	Save(t, s, box, t0, 800)
	Save(t, s, "bob@example.test", t0, 800)
	var full *msgstore.FullError
	if err := msgstore.CheckQuota(ctx, s, box, p); !errors.As(err, &full) || full.Usage.Messages != 2 {
		t.Fatalf("two messages of MaxMessages 2: %v; want FullError", err)
	} else if !strings.Contains(err.Error(), "mailbox alice@example.test is full: 2 messages (MaxMessages 2)") {
		t.Fatalf("FullError says %q", err)
	}
	// A deleted message frees its room at once, though it is kept.
	if _, err := s.SetState(ctx, admin, a.ID, msgstore.Deleted, t0); err != nil {
		t.Fatal(err)
	}
	if err := msgstore.CheckQuota(ctx, s, box, p); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	// The size quota: two 0.6 MB messages fill 1 MB.
	p.MaxMessages, p.MaxMessageStorage = 100, 1
	big := Save(t, s, "carol@example.test", t0, 300_000)
	if err := msgstore.CheckQuota(ctx, s, "carol@example.test", p); err != nil {
		t.Fatalf("one %d-byte message of 1 MB: %v", big.Size, err)
	}
	Save(t, s, "carol@example.test", t0, 300_000)
	if err := msgstore.CheckQuota(ctx, s, "carol@example.test", p); !errors.As(err, &full) || full.Usage.Bytes < 1<<20 {
		t.Fatalf("1.2 MB of MaxMessageStorage 1: %v; want FullError", err)
	}
}

func testPurge(t *testing.T, e Engine) {
	ctx := context.Background()
	s := e.newStore(t)
	now := t0.Add(30 * 24 * time.Hour)
	del := func(box string, ago time.Duration) msgstore.Message {
		m := Save(t, s, box, t0, 800)
		if _, err := s.SetState(ctx, admin, m.ID, msgstore.Deleted, now.Add(-ago)); err != nil {
			t.Fatal(err)
		}
		return m
	}
	day := 24 * time.Hour
	old := del("alice@example.test", 15*day)
	recent := del("alice@example.test", 13*day)
	bobs := del("bob@example.test", time.Minute)
	saved := Save(t, s, "alice@example.test", t0, 800) // never deleted: never purged
	retention := func(box string) time.Duration {
		if box == "bob@example.test" {
			return 0 // DeletedMessageRetention 0: purged at the next run
		}
		return 14 * day
	}
	purger := directory.Actor{User: "openum", Command: "openum serve"}
	n, err := s.Purge(ctx, purger, now, retention)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2", n, err)
	}
	var nf *msgstore.NotFoundError
	for _, m := range []msgstore.Message{old, bobs} {
		if _, err := s.Audio(ctx, m.ID); !errors.As(err, &nf) {
			t.Errorf("message %d past its retention is still there: %v", m.ID, err)
		}
	}
	for _, m := range []msgstore.Message{recent, saved} {
		if _, err := s.Get(ctx, m.ID); err != nil {
			t.Errorf("message %d was purged: %v", m.ID, err)
		}
	}
	log, _ := s.Audit(ctx)
	purges := 0
	for _, r := range log {
		if r.Command == "openum serve" {
			purges++
			if r.Changes[0].Action != directory.Removed {
				t.Errorf("purge record %+v", r)
			}
		}
	}
	if purges != 2 {
		t.Fatalf("%d purge records; want one per mailbox: %+v", purges, log)
	}
	if n, err := s.Purge(ctx, purger, now, retention); err != nil || n != 0 {
		t.Fatalf("second Purge = %d, %v; want 0", n, err)
	}
}

// The running server's purge loop purges at once, with the directory's
// retention, and stops with its context.
func testRunPurge(t *testing.T, e Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	s := e.newStore(t)
	m := Save(t, s, "alice@example.test", t0, 800)
	if _, err := s.SetState(ctx, admin, m.ID, msgstore.Deleted, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	p := directory.NewMailboxPolicy("P0", "DP1")
	p.DeletedMessageRetention = 0
	snap := &directory.Snapshot{MailboxPolicies: []directory.MailboxPolicy{p},
		Mailboxes: directory.MailboxesOf(directory.Mailbox{EmailAddress: "alice@example.test", UMMailboxPolicy: "P0"})}
	runs := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		msgstore.RunPurge(ctx, s, directory.Actor{User: "openum", Command: "openum serve"}, 10*time.Millisecond,
			func(context.Context) (*directory.Snapshot, error) {
				select {
				case runs <- struct{}{}:
				default:
				}
				return snap, nil
			},
			func(err error) { t.Errorf("purge failed: %v", err) })
		close(done)
	}()
	<-runs
	<-runs // the first run has finished
	var nf *msgstore.NotFoundError
	if _, err := s.Get(ctx, m.ID); !errors.As(err, &nf) {
		t.Fatalf("a message deleted an hour ago under DeletedMessageRetention 0 is still there: %v", err)
	}
	cancel()
	<-done
}

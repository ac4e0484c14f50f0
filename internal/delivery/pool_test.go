package delivery

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/msgstoretest"
	msqlite "github.com/openum/openum/internal/msgstore/sqlite"
)

// poolServer is one server of a pool in a test: its spool, its Maildir,
// its event log, its worker on the shared store.
type poolServer struct {
	name   string
	spool  *Spool
	mail   Maildir
	log    *events.Log
	logDir string
	pool   *Pool
}

func newPoolServer(t *testing.T, store *msqlite.Store, name string, lease time.Duration) *poolServer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	spool, err := OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := events.Open(filepath.Join(dir, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return &poolServer{name: name, spool: spool, mail: Maildir{Dir: filepath.Join(dir, "mail")}, log: log, logDir: dir,
		pool: &Pool{Ledger: store, Audio: store, Server: name, Lease: lease}}
}

// record keeps a voice message as call answering does: in the store with
// its mail job, then in the spool.
func (p *poolServer) record(t *testing.T, store msgstore.Store, id string) {
	t.Helper()
	m := testMessage(id)
	m.Stored = true
	job, err := p.pool.Job(m)
	if err != nil {
		t.Fatal(err)
	}
	wav := msgstoretest.Recording(t, 800, 1)
	if _, err := store.Save(context.Background(), directory.Actor{}, msgstore.Message{Mailbox: m.To, CallID: m.CallID, Mail: job}, wav); err != nil {
		t.Fatal(err)
	}
	enqueue(t, p.spool, m)
}

// run starts p's worker with transport until the returned stop.
func (p *poolServer) run(transport Transport) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{Spool: p.spool, Transport: transport, Events: p.log, Pool: p.pool, MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func (p *poolServer) mails() int {
	files, _ := filepath.Glob(filepath.Join(p.mail.Dir, "alice@example.test", "new", "*"))
	return len(files)
}

func (p *poolServer) events(id events.EventID) []events.Record {
	recs, _ := events.Read(filepath.Join(p.logDir, "events.log"), events.Filter{ID: id})
	return recs
}

type refusing struct{}

func (refusing) Deliver(context.Context, *Message, []byte) error {
	return errors.New("delivery: SMTP: connection refused")
}

func poolStore(t *testing.T) *msqlite.Store {
	t.Helper()
	store, err := msqlite.Open(context.Background(), filepath.Join(t.TempDir(), "messages.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// um1 records two messages and dies before delivering them: once its
// leases expire, um2 takes them over (9309 naming um1) and delivers each
// from the store, once. um1 comes back: its spool's copies are removed
// (9310), not sent again.
func TestPoolTakesOverADeadServersMail(t *testing.T) {
	store := poolStore(t)
	um1 := newPoolServer(t, store, "um1", 300*time.Millisecond)
	um2 := newPoolServer(t, store, "um2", 300*time.Millisecond)
	um1.record(t, store, "p1")
	um1.record(t, store, "p2")
	stop := um2.run(um2.mail)
	defer stop()
	waitFor(t, func() bool { return um2.mails() == 2 })
	if recs := um2.events(events.MailTakenOver); len(recs) != 1 || recs[0].Attrs["server"] != "um1" || recs[0].Attrs["messages"] != float64(2) {
		t.Fatalf("take-over events %+v; want one naming um1 with 2 messages", recs)
	}
	if msg, err := um2.mail.FirstNew("alice@example.test"); err != nil || len(msg.Audio) == 0 {
		t.Fatalf("the mail um2 delivered: %v, %v; want the stored recording attached", msg, err)
	}

	stop1 := um1.run(um1.mail)
	defer stop1()
	waitFor(t, func() bool { p, _ := um1.spool.Pending(); return len(p) == 0 })
	time.Sleep(200 * time.Millisecond)
	if n, m := um1.mails(), um2.mails(); n != 0 || m != 2 {
		t.Fatalf("um1 delivered %d, um2 %d; want 0 and 2", n, m)
	}
	// The Maildir recognises a message delivered again: count the deliveries.
	if n, m := len(um1.events(events.MessageDelivered)), len(um2.events(events.MessageDelivered)); n != 0 || m != 2 {
		t.Fatalf("deliveries (9301): um1 %d, um2 %d; want 0 and 2", n, m)
	}
	if recs := um1.events(events.MailCopyDropped); len(recs) != 2 {
		t.Fatalf("%d events 9310 on um1; want 2", len(recs))
	}
}

// A live server keeps its mail while its mail server refuses it: it
// renews its leases, so another server waiting beside it delivers
// nothing; once it stops, the other delivers the message, once.
func TestPoolOwnerKeepsItsMailWhileRetrying(t *testing.T) {
	store := poolStore(t)
	um1 := newPoolServer(t, store, "um1", 300*time.Millisecond)
	um2 := newPoolServer(t, store, "um2", 300*time.Millisecond)
	um1.record(t, store, "r1")
	stop1 := um1.run(refusing{})
	stop2 := um2.run(um2.mail)
	defer stop2()
	time.Sleep(1500 * time.Millisecond) // five leases
	if n := um2.mails(); n != 0 {
		t.Fatalf("um2 delivered %d messages of a live um1", n)
	}
	if len(um1.events(events.DeliveryFailed)) == 0 {
		t.Fatal("um1 never tried")
	}
	stop1()
	waitFor(t, func() bool { return um2.mails() == 1 })
	time.Sleep(500 * time.Millisecond)
	if n := len(um2.events(events.MessageDelivered)); n != 1 {
		t.Fatalf("um2 delivered %d copies (9301); want 1", n)
	}
}

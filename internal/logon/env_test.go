package logon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
)

var admin = directory.Actor{User: "test", Command: "go test"}

// env is a real SQLite directory and event log in a temp dir, with dial
// plan DP1 (5-digit extensions), gateways GW1 and GW2, policy P1 and the
// mailboxes user1..userN@example.test at extensions 10001.., each with the
// PIN pins[i]. Every PIN a test uses goes through env.used, so that the
// cleanup can look for it in the event log and the audit log.
type env struct {
	t        *testing.T
	dir      string
	db       *sqlite.Store
	log      *events.Log
	svc      *logon.Service
	notified *notifier
	pins     []string

	mu   sync.Mutex
	used []string
}

// notifier keeps the PINs handed to it, as mail delivery will send them.
type notifier struct {
	mu   sync.Mutex
	sent map[string]string // mailbox → the latest PIN
}

func (n *notifier) Notify(_ context.Context, m directory.Mailbox, newPIN string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent[m.EmailAddress] = newPIN
	return nil
}

func (n *notifier) pin(email string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[email]
}

// quick keeps the tests fast: a failure answers after 20 ms.
var quick = logon.Settings{FailureTime: 20 * time.Millisecond}

func newEnv(t *testing.T, mailboxes int, set logon.Settings, policy func(*directory.MailboxPolicy)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), notified: &notifier{sent: map[string]string{}}}
	ctx := context.Background()
	var err error
	if e.db, err = sqlite.Open(ctx, filepath.Join(e.dir, "directory.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	if e.log, err = events.Open(filepath.Join(e.dir, "events.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.log.Close() })
	// Ten digits, so that no timestamp in the logs holds one by chance.
	for i := range mailboxes {
		e.pins = append(e.pins, fmt.Sprintf("%d", 4807152913+i*7919))
	}
	_, err = e.db.Update(ctx, admin, func(s *directory.Snapshot) error {
		dp := directory.NewDialPlan("DP1")
		dp.NumberOfDigitsInExtension = 5
		p := directory.NewMailboxPolicy("P1", "DP1")
		if policy != nil {
			policy(&p)
		}
		for _, err := range []error{s.AddDialPlan(dp), s.AddMailboxPolicy(p)} {
			if err != nil {
				return err
			}
		}
		for i, name := range []string{"GW1", "GW2"} {
			g := directory.NewIPGateway(name)
			g.Address = fmt.Sprintf("gw%d.example.test", i+1)
			if err := s.AddIPGateway(g); err != nil {
				return err
			}
		}
		for i, p := range e.pins {
			m := directory.Mailbox{EmailAddress: user(i), UMDialPlan: "DP1", UMMailboxPolicy: "P1", Extensions: directory.List[string]{ext(i)}}
			if err := s.AddMailbox(m); err != nil {
				return err
			}
			if _, err := s.AssignPIN(m.EmailAddress, p, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.use(e.pins...)
	e.start(set)
	t.Cleanup(e.checkNoPIN)
	return e
}

func user(i int) string { return fmt.Sprintf("user%d@example.test", i+1) }
func ext(i int) string  { return fmt.Sprintf("%d", 10001+i) }

// start (re)creates the service, as a server restart does.
func (e *env) start(set logon.Settings) {
	svc, err := logon.New(e.db, e.log, e.notified, set)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

// restart closes and reopens the directory and starts a new service.
func (e *env) restart(set logon.Settings) {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(e.dir, "directory.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.start(set)
}

// use notes PINs the test typed or was given.
func (e *env) use(pins ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.used = append(e.used, pins...)
}

// logon makes one attempt in call c and fails the test on an error.
func (e *env) logon(c *logon.Call, extension, digits string) logon.Result {
	e.t.Helper()
	e.use(digits)
	r, err := c.Logon(context.Background(), extension, digits)
	if err != nil {
		e.t.Fatalf("Logon(%s): %v", extension, err)
	}
	return r
}

func (e *env) mailbox(email string) directory.Mailbox {
	e.t.Helper()
	return directorytest.Mailbox(e.t, e.db, email)
}

// events returns the records of id in the event log.
func (e *env) events(id events.EventID) []events.Record {
	e.t.Helper()
	recs, err := events.Read(filepath.Join(e.dir, "events.log"), events.Filter{ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// checkNoPIN looks for every PIN the test used, and for any hash, in the
// event log and in the audit log.
func (e *env) checkNoPIN() {
	logBytes, err := os.ReadFile(filepath.Join(e.dir, "events.log"))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	audit, err := e.db.Audit(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	auditBytes, _ := json.Marshal(audit)
	e.mu.Lock()
	defer e.mu.Unlock()
	for where, text := range map[string]string{"event log": string(logBytes), "audit log": string(auditBytes)} {
		for _, p := range e.used {
			if len(p) >= 6 && strings.Contains(text, p) {
				e.t.Errorf("the %s holds the PIN %s", where, p)
			}
		}
		if strings.Contains(text, "argon2") {
			e.t.Errorf("the %s holds a PIN hash", where)
		}
	}
}

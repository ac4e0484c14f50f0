package admin_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/admin"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	msgsqlite "github.com/openum/openum/internal/msgstore/sqlite"
	"github.com/openum/openum/internal/ops"
	"github.com/openum/openum/internal/pin"
	"github.com/openum/openum/internal/playonphone"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/testpki"
)

// liveFixture is openum's running parts on loopback, laid out in a data
// directory as openum serve lays them out (so that the command line reads
// the same files): a SQLite directory, a message store, a certificate
// store whose trusted CA issues administrators' certificates, an event
// log, a SIP server taking calls on TCP, and the admin API over HTTPS
// with a token of each role.
//
//	GW2 127.0.0.2, pilot 5000 → OPEN (Unsecured), on server um.localhost
//	mailbox alice@example.test (PIN alicePIN), one voice message
type liveFixture struct {
	t       *testing.T
	data    string
	dir     *sqlite.Store
	watch   *directory.Watcher
	log     *events.Log
	msgs    *msgsqlite.Store
	sip     *sip.Server
	api     *admin.Server
	ca      *testpki.CA
	roots   *x509.CertPool // the admin API's certificate
	message int64          // alice's message
	tokens  map[directory.AdminRole]string

	mu      sync.Mutex
	answers [][]byte // every body the API sent, for the secrets check
	secrets []string // what no answer and no event may hold
}

const alicePIN = "739146"

func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	ctx := context.Background()
	f := &liveFixture{t: t, data: t.TempDir(), ca: testpki.NewRootCA(t, "Admins CA"), tokens: map[directory.AdminRole]string{}}
	var err error
	if f.dir, err = sqlite.Open(ctx, filepath.Join(f.data, "directory.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.dir.Close() })
	pinHash, err := pin.Hash(alicePIN)
	if err != nil {
		t.Fatal(err)
	}
	f.secrets = append(f.secrets, alicePIN, pinHash)
	var tokens []directory.AdminToken
	for _, role := range directory.AdminRoles {
		tok, hash := admin.NewToken()
		f.tokens[role] = tok
		f.secrets = append(f.secrets, tok, hash)
		tokens = append(tokens, directory.AdminToken{Name: string(role) + "-token", Role: role, Hash: hash})
	}
	// The token an administrator's certificate names (CN alice-admin).
	_, hash := admin.NewToken()
	tokens = append(tokens, directory.AdminToken{Name: "alice-admin", Role: directory.RoleAdmin, Hash: hash})
	f.update(func(s *directory.Snapshot) error {
		plan := directory.NewDialPlan("OPEN")
		plan.NumberOfDigitsInExtension = 5
		gw := directory.NewIPGateway("GW2")
		gw.Address = "127.0.0.2"
		sv := directory.NewServer("um.localhost")
		sv.DialPlans = directory.List[string]{"OPEN"}
		box := directory.Mailbox{EmailAddress: "alice@example.test", DisplayName: "Alice", UMDialPlan: "OPEN",
			UMMailboxPolicy: "Default", Extensions: directory.List[string]{"12345"}, PIN: directory.PINState{Hash: pinHash, SetAt: time.Now()}}
		errs := []error{s.AddDialPlan(plan), s.AddIPGateway(gw), s.AddServer(sv),
			s.AddHuntGroup(directory.HuntGroup{Name: "HG0", UMIPGateway: "GW2", UMDialPlan: "OPEN", PilotIdentifier: "5000"}),
			s.AddMailboxPolicy(directory.NewMailboxPolicy("Default", "OPEN")), s.AddMailbox(box)}
		for _, tok := range tokens {
			errs = append(errs, s.AddAdminToken(tok))
		}
		return errors.Join(errs...)
	})

	store, err := certs.OpenStore(filepath.Join(f.data, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(testpki.PEM(t, nil, f.ca.Cert), "", true); err != nil {
		t.Fatal(err)
	}
	if f.log, err = events.Open(filepath.Join(f.data, "events.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.log.Close() })
	manager, err := certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: "um.localhost", Events: f.log})
	if err != nil {
		t.Fatal(err)
	}
	f.roots = x509.NewCertPool()
	f.roots.AddCert(manager.Current().X509)

	f.watch = directory.NewWatcher(f.dir)
	snap, err := f.watch.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.sip, err = sip.New(ctx, sip.Config{FQDN: "um.localhost", ListenIP: "127.0.0.1", TCPPort: -1, TLSPort: -1,
		Directory: snap, Certs: manager, Events: f.log, HousekeepingEvery: time.Hour}); err != nil {
		t.Fatal(err)
	}
	f.watch.Subscribe(f.sip.Apply)
	if err := f.sip.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = f.sip.Shutdown(sctx)
	})

	if f.msgs, err = msgsqlite.Open(ctx, filepath.Join(f.data, "messages.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.msgs.Close() })
	m, err := f.msgs.Save(ctx, directory.Actor{}, msgstore.Message{Mailbox: "alice@example.test", CallerNumber: "5551234",
		CallID: "left-by-a-test", ReceivedAt: time.Now().Add(-time.Hour)}, media.EncodeWAV(make([]int16, 8000)))
	if err != nil {
		t.Fatal(err)
	}
	f.message = m.ID
	pop, err := playonphone.NewService("um.localhost", f.sip, f.msgs, f.dir, f.log)
	if err != nil {
		t.Fatal(err)
	}
	if f.api, err = admin.New(admin.Config{Addr: "127.0.0.1:0", Certs: manager, Snapshot: f.watch.Snapshot, Events: f.log,
		ClientCertRole: directory.RoleOperator,
		Live: &admin.Live{Directory: f.dir, ServerName: "um.localhost", SIP: f.sip, EventLog: filepath.Join(f.data, "events.log"),
			Messages: f.msgs, PlayOnPhone: pop},
		API: &admin.API{Directory: f.dir, Audit: []ops.AuditLog{f.dir, f.msgs}, CertStore: store, ServerName: "um.localhost"}}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.api.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = f.api.Shutdown(sctx)
	})
	return f
}

// update changes the directory and makes the running server follow, as
// openum serve's watch does.
func (f *liveFixture) update(fn func(*directory.Snapshot) error) {
	f.t.Helper()
	directorytest.Update(f.t, f.dir, f.watch, fn)
}

// client is an HTTPS client that trusts the API's certificate and
// presents cert, if any.
func (f *liveFixture) client(cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: f.roots, ServerName: "um.localhost"}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: 30 * time.Second}
}

// do sends a request with role's token ("" for none) and returns the
// status and body, kept for the secrets check.
func (f *liveFixture) do(role directory.AdminRole, method, path string, body any) (int, []byte) {
	f.t.Helper()
	return f.send(f.client(nil), f.tokens[role], method, path, body)
}

func (f *liveFixture) send(c *http.Client, token, method, path string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.api.URL()+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	f.keep(b)
	return resp.StatusCode, b
}

func (f *liveFixture) keep(b []byte) {
	f.mu.Lock()
	f.answers = append(f.answers, bytes.Clone(b))
	f.mu.Unlock()
}

// call places a call to pilot 5000 from GW2 and returns it.
func (f *liveFixture) call(ctx context.Context) (*sip.Outcall, error) { return f.callTo(ctx, "5000") }

// callTo places a call to number from GW2 and returns it.
func (f *liveFixture) callTo(ctx context.Context, number string) (*sip.Outcall, error) {
	c, err := sip.NewCaller(sip.CallerConfig{Server: f.sip.Addrs()["TCP"].String(), Transport: "TCP",
		LocalIP: netip.MustParseAddr("127.0.0.2"), From: "5551234"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c.Call(ctx, number, false)
}

// checkNoSecrets fails when a token, its hash, the PIN, its hash or a
// private key is in any answer or in the event log.
func (f *liveFixture) checkNoSecrets(more ...string) {
	f.t.Helper()
	log, err := events.Read(filepath.Join(f.data, "events.log"), events.Filter{})
	if err != nil {
		f.t.Fatal(err)
	}
	logText, _ := json.Marshal(log)
	// The store's private keys (the server's), by a line of each.
	_ = filepath.WalkDir(filepath.Join(f.data, "certs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".key") {
			if b, err := os.ReadFile(path); err == nil {
				more = append(more, keyLine(b))
			}
		}
		return nil
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	places := append(slicesOf(f.answers), string(logText))
	for _, text := range places {
		if strings.Contains(text, "PRIVATE KEY") {
			f.t.Errorf("a private key in %.200q", text)
		}
		for _, s := range append(f.secrets, more...) {
			if strings.Contains(text, s) {
				f.t.Errorf("secret %.12q… in %.200q", s, text)
			}
		}
	}
}

// keyLine is a line from the middle of a PEM private key: enough to find
// the key quoted anywhere.
func keyLine(pemKey []byte) string {
	lines := strings.Split(strings.TrimSpace(string(pemKey)), "\n")
	return lines[len(lines)/2]
}

func slicesOf(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

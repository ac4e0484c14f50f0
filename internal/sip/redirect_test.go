package sip

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// pool is the fixture's server (um.localhost, "A") and a second server of
// the same directory (um2.localhost, "B", serving OPEN), both in this
// process on loopback, both publishing on the directory's load board.
type pool struct {
	*fixture
	b *Server
}

func newPool(t *testing.T) *pool {
	t.Helper()
	f := newFixture(t, Limits{}, withLoads())
	f.update(func(s *directory.Snapshot) error {
		sv := directory.NewServer("um2.localhost")
		sv.DialPlans, sv.MaxCallsAllowed = directory.List[string]{"OPEN"}, 5
		return s.AddServer(sv)
	})
	ctx := context.Background()
	tmp := t.TempDir()
	store, err := certs.OpenStore(filepath.Join(tmp, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	manager, err := certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: "um2.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	log, err := events.Open(filepath.Join(tmp, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	snap, err := f.watch.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, Config{FQDN: "um2.localhost", ListenIP: "127.0.0.1", TCPPort: -1, TLSPort: -1, Directory: snap,
		Certs: manager, Events: log, HousekeepingEvery: time.Hour, Loads: f.dir, LoadEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f.watch.Subscribe(b.Apply)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = b.Shutdown(sctx)
	})
	return &pool{fixture: f, b: b}
}

// setServer changes a server's record and has both servers publish and
// read the board again.
func (p *pool) setServer(name string, fn func(*directory.Server)) {
	p.t.Helper()
	p.update(func(s *directory.Snapshot) error {
		sv, err := s.Server(name)
		if err == nil {
			fn(sv)
		}
		return err
	})
	p.refresh()
}

func (p *pool) refresh() {
	ctx := context.Background()
	p.b.refreshBoard(ctx)
	p.srv.refreshBoard(ctx)
}

// invite sends GW2's new call for the OPEN plan to A at uri and returns
// the final response.
func (p *pool) invite(uri, callID string) *response {
	p.t.Helper()
	gw := p.tcp("127.0.0.2")
	gw.request("INVITE", uri, callID, "", sdpOffer("127.0.0.2", false))
	res, err := gw.response()
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// A full server redirects a new call with 302 to the other server of the
// dial plan that has room, on the transport the call came on; the gateway
// following the Contact is answered by that server; a redirected call is
// not redirected again; with no other room, or only a stale row, 503.
func TestFullServerRedirects(t *testing.T) {
	p := newPool(t)
	// A takes one call and is full.
	p.setServer("um.localhost", func(sv *directory.Server) { sv.MaxCallsAllowed = 1 })
	held := p.tcp("127.0.0.2")
	_, heldTag := placeCallTo(t, held, "sip:5000@um.localhost", "redir-0")
	p.refresh()

	res := p.invite("sip:5000@um.localhost", "redir-1")
	if res.status != 302 {
		t.Fatalf("full server: %d; want 302", res.status)
	}
	_, bPort, _ := strings.Cut(p.b.Addrs()["TCP"].String(), ":")
	want := "<sip:5000@um2.localhost:" + bPort + ";transport=tcp;openum-redirected=um.localhost>"
	contact := res.header.Get("Contact")
	if contact != want {
		t.Fatalf("Contact %q; want %q", contact, want)
	}
	p.event(events.CallRedirected, "um2.localhost")

	// The gateway follows: a new INVITE to the Contact, which B answers.
	uri := strings.Trim(contact, "<>")
	gw, err := dialFrom(t, "127.0.0.2", p.b.Addrs()["TCP"], nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tag := placeCallTo(t, gw, uri, "redir-2")
	if n := p.b.ActiveCalls(); n != 1 {
		t.Fatalf("B has %d calls; want the redirected one", n)
	}

	// A call already redirected once is refused, not sent on.
	if res := p.invite(uri, "redir-3"); res.status != 503 {
		t.Fatalf("an INVITE already redirected: %d; want 503", res.status)
	}

	// Over TLS the Contact names B's TLS port.
	gwTLS, err := p.tls("127.0.0.1", p.gatewayCert())
	if err != nil {
		t.Fatal(err)
	}
	gwTLS.request("INVITE", "sip:5003@um.localhost", "redir-tls", "", sdpOffer("127.0.0.1", false))
	res = gwTLS.mustStatus(302)
	_, tlsPort, _ := strings.Cut(p.b.Addrs()["TLS"].String(), ":")
	if c := res.header.Get("Contact"); !strings.Contains(c, "@um2.localhost:"+tlsPort+";transport=tls;") {
		t.Fatalf("Contact over TLS %q; want B's TLS port %s", c, tlsPort)
	}

	// B full too (the redirected call is its one): 503 with Retry-After.
	p.setServer("um2.localhost", func(sv *directory.Server) { sv.MaxCallsAllowed = 1 })
	res = p.invite("sip:5000@um.localhost", "redir-4")
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Fatalf("both full: %d, Retry-After %q; want 503 with Retry-After", res.status, res.header.Get("Retry-After"))
	}

	// B with room but its row stale (it stopped publishing): 503.
	p.setServer("um2.localhost", func(sv *directory.Server) { sv.MaxCallsAllowed = 5 })
	stale := p.b.ownLoad()
	stale.Updated = time.Now().Add(-staleAfter*time.Hour - time.Minute)
	if err := p.dir.PublishLoad(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	p.srv.refreshBoard(context.Background())
	if res := p.invite("sip:5000@um.localhost", "redir-5"); res.status != 503 {
		t.Fatalf("B's row stale: %d; want 503", res.status)
	}
	p.refresh()
	if res := p.invite("sip:5000@um.localhost", "redir-6"); res.status != 302 {
		t.Fatalf("B's row fresh again: %d; want 302", res.status)
	}
	gw.request("BYE", uri, "redir-2", "totag="+tag+"\n", "")
	gw.mustStatus(200)
	hangUp(t, held, "5000", "redir-0", heldTag)
}

// A server never redirects to itself, even while its own row, published
// before it went NoNewCalls, still shows room.
func TestNoRedirectToItself(t *testing.T) {
	p := newPool(t)
	p.setServer("um2.localhost", func(sv *directory.Server) { sv.Status = directory.NoNewCalls })
	rows, err := p.dir.ReadLoads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.update(func(s *directory.Snapshot) error {
		sv, err := s.Server("um.localhost")
		if err == nil {
			sv.Status = directory.NoNewCalls
		}
		return err
	})
	p.srv.board.rows.Store(&rows) // A's row still Enabled with room
	if res := p.invite("sip:5000@um.localhost", "self-1"); res.status != 503 {
		t.Fatalf("NoNewCalls with only itself showing room: %d (Contact %q); want 503", res.status, res.header.Get("Contact"))
	}
	// B gets room: NoNewCalls on A now moves the call to B.
	p.setServer("um2.localhost", func(sv *directory.Server) { sv.Status = directory.Enabled })
	if res := p.invite("sip:5000@um.localhost", "self-2"); res.status != 302 || !strings.Contains(res.header.Get("Contact"), "um2.localhost") {
		t.Fatalf("NoNewCalls, B with room: %d %q; want 302 to B", res.status, res.header.Get("Contact"))
	}
}

// placeCallTo places INVITE → 200 → ACK to uri and returns the 200 and the
// dialog's to-tag.
func placeCallTo(t *testing.T, p *peer, uri, callID string) (*response, string) {
	t.Helper()
	p.request("INVITE", uri, callID, "", sdpOffer("127.0.0.2", false))
	res := p.mustStatus(200)
	_, tag, _ := strings.Cut(res.header.Get("To"), "tag=")
	p.request("ACK", uri, callID, "totag="+tag+"\n", "")
	return res, tag
}

// A stopping server says so on the board at once, not a period later, so
// that the others stop sending it calls.
func TestStoppingServerTellsTheBoard(t *testing.T) {
	p := newPool(t)
	ctx := context.Background()
	if err := p.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := p.dir.ReadLoads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rows {
		if l.Server == "um2.localhost" {
			if !l.Draining || l.HasRoom(time.Now().Add(-time.Hour)) {
				t.Fatalf("stopped server's row %+v; want Draining, no room", l)
			}
			return
		}
	}
	t.Fatalf("no row of um2.localhost: %+v", rows)
}

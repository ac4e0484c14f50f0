package sip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// A call from another openum server (SPEC PEER-5) to a server with no room
// is redirected like a gateway's, but never back to the server that sent
// it, even when that one has the most room, nor to a server that already
// refused it; it may go on from server to server, the mark growing by each
// server that refused it, and when no server is left, 503.
func TestServerCallRedirectedOnward(t *testing.T) {
	p := newPool(t)
	// um3 has room (less than B); um4 is a server with no row on the board.
	p.update(func(s *directory.Snapshot) error {
		um3 := directory.NewServer("um3.localhost")
		um3.DialPlans, um3.MaxCallsAllowed = directory.List[string]{"OPEN"}, 2
		return errors.Join(s.AddServer(um3), s.AddServer(directory.NewServer("um4.localhost")))
	})
	row := directory.Load{Server: "um3.localhost", MaxCallsAllowed: 2, Status: directory.Enabled, TCPPort: 5070, TLSPort: 5071, Updated: time.Now()}
	if err := p.dir.PublishLoad(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	p.setServer("um.localhost", func(sv *directory.Server) { sv.Status = directory.NoNewCalls })

	call := func(sender, uri, callID string) *response {
		t.Helper()
		srv, err := p.tls("127.0.0.1", p.ca.leaf(t, leafOptions{names: []string{sender}}))
		if err != nil {
			t.Fatal(err)
		}
		srv.request("INVITE", uri, callID, "", sdpOffer("127.0.0.1", false))
		res, err := srv.response()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// B calls A: not back to B, to um3, over TLS.
	res := call("um2.localhost", "sip:5000@um.localhost", "srv-redir-1")
	want := "<sip:5000@um3.localhost:5071;transport=tls;openum-redirected=um.localhost>"
	if res.status != 302 || res.header.Get("Contact") != want {
		t.Fatalf("server B's call to A in NoNewCalls: %d, Contact %q; want 302 with %q", res.status, res.header.Get("Contact"), want)
	}
	p.event(events.CallRedirected, "um2.localhost")

	// um4's call, already refused by um3: on to B, um3 and A in the mark.
	res = call("um4.localhost", "sip:5000@um.localhost;openum-redirected=um3.localhost", "srv-redir-2")
	_, bPort, _ := strings.Cut(p.b.Addrs()["TLS"].String(), ":")
	if c := res.header.Get("Contact"); res.status != 302 || c != "<sip:5000@um2.localhost:"+bPort+";transport=tls;openum-redirected=um3.localhost+um.localhost>" {
		t.Fatalf("um4's call refused by um3: %d, Contact %q; want 302 to B marked um3 and A", res.status, c)
	}

	// B's call refused by um3: the sender and um3 are all there is: 503.
	if res := call("um2.localhost", "sip:5000@um.localhost;openum-redirected=UM3.localhost", "srv-redir-3"); res.status != 503 {
		t.Fatalf("B's call refused by um3: %d (Contact %q); want 503", res.status, res.header.Get("Contact"))
	}
}

package playonphone_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	msgsqlite "github.com/openum/openum/internal/msgstore/sqlite"
	"github.com/openum/openum/internal/peertest"
	"github.com/openum/openum/internal/playonphone"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/storetest"
)

// A server with MaxCallsAllowed 1 and an answered call in progress
// refuses Play on Phone before dialling, as the other refusals are
// (event 9500, reason server-full), and spends no outcall budget; once
// the call ends, Play on Phone dials again.
func TestPlayOnPhoneRefusedWhenServerFull(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	dir := storetest.Open(t, sqlite.Open, filepath.Join(tmp, "directory.db"))
	watch := directory.NewWatcher(dir)
	// GW2 takes the server's one call on pilot 5000; its outcalls go to a
	// port nothing listens on.
	directorytest.Update(t, dir, watch, func(s *directory.Snapshot) error {
		plan := directory.NewDialPlan("OPEN")
		plan.NumberOfDigitsInExtension = 5
		gw := directory.NewIPGateway("GW2")
		gw.Address, gw.Port = "127.0.0.2", peertest.FreePort(t)
		sv := directory.NewServer("um.localhost")
		sv.DialPlans, sv.MaxCallsAllowed = directory.List[string]{"OPEN"}, 1
		mailbox := func(addr, ext string) directory.Mailbox {
			return directory.Mailbox{EmailAddress: addr, UMDialPlan: "OPEN", UMMailboxPolicy: "Default", Extensions: directory.List[string]{ext}}
		}
		return errors.Join(s.AddDialPlan(plan), s.AddIPGateway(gw), s.AddServer(sv),
			s.AddHuntGroup(directory.HuntGroup{Name: "HG0", UMIPGateway: "GW2", UMDialPlan: "OPEN", PilotIdentifier: "5000"}),
			s.AddMailboxPolicy(directory.NewMailboxPolicy("Default", "OPEN")),
			s.AddMailbox(mailbox("alice@example.test", "12345")), s.AddMailbox(mailbox("bob@example.test", "12346")))
	})
	logPath := filepath.Join(tmp, "events.log")
	log, err := events.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	snap, err := watch.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store, err := certs.OpenStore(filepath.Join(tmp, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	manager, err := certs.NewManager(ctx, store, certs.ManagerOptions{FQDN: "um.localhost", Events: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sip.New(ctx, sip.Config{FQDN: "um.localhost", ListenIP: "127.0.0.1", TCPPort: -1, TLSPort: -1,
		Directory: snap, Certs: manager, Events: log, HousekeepingEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	msgs := storetest.Open(t, msgsqlite.Open, filepath.Join(tmp, "messages.db"))
	m, err := msgs.Save(ctx, directory.Actor{}, msgstore.Message{Mailbox: "alice@example.test", CallerNumber: "5551234",
		CallID: "left-by-a-test", ReceivedAt: time.Now()}, media.EncodeWAV(make([]int16, 8000)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := playonphone.NewService("um.localhost", srv, msgs, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	play := func() playonphone.Result {
		t.Helper()
		res, err := svc.Play(ctx, snap, playonphone.Request{Message: m.ID, Phone: "12346", RingFor: 5 * time.Second, By: "tester"})
		var notPlayed *playonphone.Error
		if !errors.As(err, &notPlayed) {
			t.Fatalf("Play: %v; want a call not played", err)
		}
		return res
	}
	spent := func() int {
		t.Helper()
		var calls int
		stop := errors.New("read only")
		if err := dir.Reserve(ctx, dialing.Day(time.Now()), "um.localhost", "", func(sv, _ dialing.Usage) error {
			calls = sv.Calls
			return stop
		}); !errors.Is(err, stop) {
			t.Fatal(err)
		}
		return calls
	}

	caller, err := sip.NewCaller(sip.CallerConfig{Server: srv.Addrs()["TCP"].String(), Transport: "TCP",
		LocalIP: netip.MustParseAddr("127.0.0.2"), From: "5551234"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caller.Close() })
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	inbound, err := caller.Call(callCtx, "5000", false)
	if err != nil {
		t.Fatal(err)
	}

	res := play()
	if res.Outcome != playonphone.Refused || res.Reason != dialing.ServerFull ||
		!strings.HasPrefix(res.Detail, "sip: MaxCallsAllowed (1) reached: 1 answered calls") {
		t.Fatalf("with the server's one call in progress: %+v; want refused, server-full", res)
	}
	recs, err := events.Read(logPath, events.Filter{ID: events.DialRestricted})
	if err != nil || len(recs) != 1 || recs[0].Attrs["reason"] != "server-full" || recs[0].Attrs["user"] != "tester" {
		t.Fatalf("event 9500: %v %v; want one, reason server-full", recs, err)
	}
	if recs, _ := events.Read(logPath, events.Filter{ID: events.OutcallPlaced}); len(recs) != 0 {
		t.Fatalf("a refused call has an outcome (9502): %v", recs)
	}
	if n := spent(); n != 0 {
		t.Fatalf("the refused call spent %d of the server's outcalls; want none", n)
	}

	if err := inbound.Hangup(callCtx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); srv.ActiveCalls() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the inbound call did not end")
		}
	}
	if res := play(); res.Outcome != playonphone.GatewayFailure {
		t.Fatalf("with the server's call over: %+v; want it dialled (a gateway failure: nothing listens)", res)
	}
	if n := spent(); n != 1 {
		t.Fatalf("the dialled call spent %d of the server's outcalls; want 1", n)
	}
}

package sip

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/msgstore/msgstoretest"
	msqlite "github.com/openum/openum/internal/msgstore/sqlite"
	"github.com/openum/openum/internal/peertest"
)

// Message waiting (SPEC UM-5): Kamailio from Debian is the PBX that
// receives the NOTIFYs; the message store is the real SQLite one.

func TestMessageSummaryBody(t *testing.T) {
	for _, c := range []struct {
		counts msgstore.Counts
		want   string
	}{
		{msgstore.Counts{}, "Messages-Waiting: no\r\nMessage-Account: sip:12345@um.localhost\r\nVoice-Message: 0/0 (0/0)\r\n"},
		{msgstore.Counts{New: 1}, "Messages-Waiting: yes\r\nMessage-Account: sip:12345@um.localhost\r\nVoice-Message: 1/0 (0/0)\r\n"},
		{msgstore.Counts{Saved: 3}, "Messages-Waiting: no\r\nMessage-Account: sip:12345@um.localhost\r\nVoice-Message: 0/3 (0/0)\r\n"},
		{msgstore.Counts{New: 12, Saved: 40}, "Messages-Waiting: yes\r\nMessage-Account: sip:12345@um.localhost\r\nVoice-Message: 12/40 (0/0)\r\n"},
	} {
		if got := string(messageSummary("sip:12345@um.localhost", c.counts)); got != c.want {
			t.Errorf("%+v: %q; want %q", c.counts, got, c.want)
		}
	}
}

// kamailioPBX is Kamailio answering NOTIFY and OPTIONS on a TCP address.
type kamailioPBX struct {
	tool *tool
	addr string
}

func startKamailio(t *testing.T, ip string, port int) *kamailioPBX {
	t.Helper()
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	return &kamailioPBX{tool: kamailio(t, "mwi.cfg", addr), addr: addr}
}

// kamailio starts Kamailio with testdata/kamailio/config, its LISTEN
// standing for TCP on addr and its other placeholders replaced as the
// old, new pairs say; it returns once Kamailio listens.
func kamailio(t *testing.T, config, addr string, oldnew ...string) *tool {
	t.Helper()
	if _, err := exec.LookPath("kamailio"); err != nil {
		t.Skip("kamailio is not installed (Debian package kamailio)")
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join("testdata", "kamailio", config))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(append([]string{"LISTEN", "tcp:" + addr}, oldnew...)...).Replace(string(cfg))
	file := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	k := startTool(t, 2*time.Minute, dir, "kamailio", "-f", file, "-DD", "-E", "-P", filepath.Join(dir, "kamailio.pid"),
		"-Y", dir, "-m", "32", "-M", "4")
	waitListening(t, k, addr)
	return k
}

// notifies returns the NOTIFYs Kamailio logged.
func (k *kamailioPBX) notifies() []string {
	var out []string
	for _, line := range strings.Split(k.tool.out.String(), "MWI NOTIFY ")[1:] {
		out = append(out, strings.ReplaceAll(line, "\r\n", "|"))
	}
	return out
}

// waitNotify waits for a NOTIFY whose log has every want, and returns it.
func (k *kamailioPBX) waitNotify(t *testing.T, want ...string) string {
	t.Helper()
	for deadline := time.Now().Add(8 * time.Second); ; {
		for _, n := range k.notifies() {
			if containsAll(n, want) {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no NOTIFY with %q at kamailio %s; it logged:\n%s", want, k.addr, k.tool.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// mwiStore opens a SQLite message store and returns it and its file.
func mwiStore(t *testing.T) (*msqlite.Store, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "messages.db")
	store, err := msqlite.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, file
}

// addMailbox adds a mailbox with extension ext to dial plan plan.
func (f *fixture) addMailbox(email, plan, ext string) {
	f.t.Helper()
	f.update(func(s *directory.Snapshot) error {
		if _, err := s.MailboxPolicy("P-" + plan); err != nil {
			if err := s.AddMailboxPolicy(directory.NewMailboxPolicy("P-"+plan, plan)); err != nil {
				return err
			}
		}
		return s.AddMailbox(directory.Mailbox{EmailAddress: email, UMDialPlan: plan, UMMailboxPolicy: "P-" + plan,
			Extensions: directory.List[string]{ext}})
	})
}

// leaveMessage saves a one-second message for mailbox, as call answering does.
func leaveMessage(t *testing.T, store msgstore.Store, mailbox string) msgstore.Message {
	t.Helper()
	return msgstoretest.Save(t, store, mailbox, time.Now(), media.SampleRate)
}

// setMWI points gateway name at port and sets its message-waiting switch.
func (f *fixture) setMWI(name string, port int, allowed bool) {
	f.t.Helper()
	f.editGateway(name, func(gw *directory.IPGateway) { gw.Port, gw.MessageWaitingIndicatorAllowed = port, allowed })
}

// A new message lights the lamp (1 new), marking it saved by another
// handle on the store (the command line, the phone menu) puts it out;
// GW2, first in OPEN's hunt, does not answer: GW1 (Kamailio) takes each.
func TestMessageWaitingNotifiesKamailio(t *testing.T) {
	t.Parallel()
	store, file := mwiStore(t)
	f := newFixture(t, Limits{}, withMessages(store))
	f.addMailbox("alice@example.com", "OPEN", "12345")
	k := startKamailio(t, "127.0.0.1", peertest.FreePort(t))
	_, port, _ := net.SplitHostPort(k.addr)
	kport, _ := strconv.Atoi(port)
	f.setMWI("GW2", peertest.FreePort(t), true) // nothing listens there
	f.setMWI("GW1", kport, true)

	m := leaveMessage(t, store, "alice@example.com")
	n := k.waitNotify(t, "Messages-Waiting: yes", "Voice-Message: 1/0 (0/0)")
	for _, want := range []string{"ru=sip:12345@localhost:" + port + ";transport=tcp", "event=message-summary", "state=terminated",
		"type=application/simple-message-summary", "Message-Account: sip:12345@um.localhost"} {
		if !strings.Contains(n, want) {
			t.Errorf("the NOTIFY lacks %q: %s", want, n)
		}
	}
	f.event(events.OutcallGatewayFailed, "gateway:GW2")
	f.event(events.MessageWaitingSent, "gateway:GW1")

	other, err := msqlite.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	start := time.Now()
	if _, err := other.SetState(context.Background(), directory.Actor{User: "test"}, m.ID, msgstore.Saved, time.Now()); err != nil {
		t.Fatal(err)
	}
	k.waitNotify(t, "Messages-Waiting: no", "Voice-Message: 0/1 (0/0)")
	t.Logf("marked saved by another handle: the NOTIFY was logged by kamailio %v later", time.Since(start).Round(time.Millisecond))
	if got := len(k.notifies()); got != 2 {
		t.Errorf("%d NOTIFYs; want 2:\n%s", got, strings.Join(k.notifies(), "\n"))
	}
}

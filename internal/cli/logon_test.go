package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/logon"
)

// failLogons: logon DIALPLAN EXTENSION DIGITS COUNT makes COUNT logons by
// phone with DIGITS, one call each, through the logon service a server
// runs, against $OPENUM_DATA's directory: to count failures or lock a
// mailbox out as callers would.
func failLogons(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 || neg {
		ts.Fatalf("usage: logon DIALPLAN EXTENSION DIGITS COUNT")
	}
	n, err := strconv.Atoi(args[3])
	ts.Check(err)
	ctx := context.Background()
	dir, err := sqlite.Open(ctx, filepath.Join(ts.Getenv("OPENUM_DATA"), "directory.db"))
	ts.Check(err)
	defer dir.Close()
	svc, err := logon.New(dir, nil, nil, logon.Settings{FailureTime: time.Millisecond})
	ts.Check(err)
	for i := range n {
		res, err := svc.Begin(args[0], logon.Source{Gateway: "gw1", CallID: "call-" + strconv.Itoa(i)}).Logon(ctx, args[1], args[2])
		ts.Check(err)
		ts.Logf("logon %d: %v", i+1, res.Outcome)
	}
}

// A PIN reset by failed logons, wired as openum serve wires it, mails the
// new PIN into the mailbox's Maildir; the PIN works (as an expired one)
// and is nowhere else: not in the event log, the audit or the output.
func TestPINResetIsMailedAndNowhereElse(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	run := openumOn(t, data, &out)
	run("dialplan", "new", "DP1", "--number-of-digits-in-extension", "5")
	run("policy", "new", "P1", "--dialplan", "DP1", "--logon-failures-before-pin-reset", "2", "--max-logon-attempts", "5")
	run("mailbox", "enable", "alice@example.test", "--dialplan", "DP1", "--extension", "12345", "--pin", "480715")

	ctx := context.Background()
	worker := startDelivery(t, data)
	svc, err := logonService(openDirectory(t, data), worker.Events, worker.Spool, "voicemail@um1.example.test", worker.Kick)
	if err != nil {
		t.Fatal(err)
	}
	src := logon.Source{Gateway: "gw1", CallingNumber: "+15550100", CallID: "call-1"}
	for range 2 {
		if _, err := svc.Begin("DP1", src).Logon(ctx, "12345", "000000"); err != nil {
			t.Fatal(err)
		}
	}

	raw := waitMail(t, data, "alice@example.test")
	found := regexp.MustCompile(`Your new PIN is: ([0-9]+)\r\n`).FindSubmatch(raw)
	if found == nil {
		t.Fatalf("the mail gives no PIN:\n%s", raw)
	}
	newPIN := string(found[1])
	if res, err := svc.Begin("DP1", src).Logon(ctx, "12345", newPIN); err != nil || res.Outcome != logon.PINExpired {
		t.Fatalf("logon with the mailed PIN: %v, %v; want PINExpired", res.Outcome, err)
	}

	run("audit", "--json")
	run("mailbox", "get", "alice@example.test")
	logged, _ := os.ReadFile(filepath.Join(data, "events.log"))
	for what, text := range map[string][]byte{"events.log": logged, "the audit and the output": out.Bytes()} {
		if bytes.Contains(text, []byte(newPIN)) {
			t.Errorf("the new PIN %s is in %s", newPIN, what)
		}
	}
	if !bytes.Contains(out.Bytes(), []byte("failed logon")) {
		t.Error("the audit shows no failed logon: the check above looked at nothing")
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/openum/openum/internal/logon"
)

// Every PIN in the file mailbox import writes logs on by phone, through
// the logon service a server runs, as an expired PIN the user must change.
func TestImportedPINsLogOn(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	run := openumOn(t, data, &out)
	run("dialplan", "new", "DP1", "--number-of-digits-in-extension", "4")
	run("policy", "new", "P1", "--dialplan", "DP1", "--min-pin-length", "8")
	file := filepath.Join(data, "users.csv")
	pins := filepath.Join(data, "pins.csv")
	if err := os.WriteFile(file, []byte("EmailAddress,DisplayName,Extension,DialPlan,Policy\n"+
		"a@example.test,Ann,1001,DP1,P1\nb@example.test,Bee,1002,DP1,P1\nc@example.test,Cee,1003,DP1,P1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("mailbox", "import", file, "--pins-out", pins)

	f, err := os.Open(pins)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := csv.NewReader(f).ReadAll()
	if err != nil || len(lines) != 3 {
		t.Fatalf("pins file: %d lines, %v", len(lines), err)
	}
	ctx := context.Background()
	svc, err := logon.New(openDirectory(t, data), nil, nil, logon.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		address, ext, pin := l[0], l[1], l[2]
		if len(pin) != 8 {
			t.Errorf("%s: a %d-digit PIN; the policy asks for 8", address, len(pin))
		}
		if bytes.Contains(out.Bytes(), []byte(pin)) {
			t.Errorf("%s: the PIN is in the command's output", address)
		}
		res, err := svc.Begin("DP1", logon.Source{Gateway: "gw1", CallID: "call-" + ext}).Logon(ctx, ext, pin)
		if err != nil || res.Outcome != logon.PINExpired {
			t.Errorf("line %d: %s logs on with its PIN: %v, %v; want PINExpired", i+1, address, res.Outcome, err)
		}
	}
}

// With --mail-pins, each PIN reaches its mailbox by mail, through the
// spool and delivery openum serve runs, and logs on.
func TestImportMailsPINs(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	run := openumOn(t, data, &out)
	run("dialplan", "new", "DP1", "--number-of-digits-in-extension", "4")
	run("policy", "new", "P1", "--dialplan", "DP1")
	file := filepath.Join(data, "users.csv")
	if err := os.WriteFile(file, []byte("EmailAddress,DisplayName,Extension,DialPlan,Policy\n"+
		"a@example.test,Ann,1001,DP1,P1\nb@example.test,Bee,1002,DP1,P1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("mailbox", "import", file, "--mail-pins", "--mail-from", "voicemail@um1.example.test")

	ctx := context.Background()
	startDelivery(t, data)
	svc, err := logon.New(openDirectory(t, data), nil, nil, logon.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ address, ext string }{{"a@example.test", "1001"}, {"b@example.test", "1002"}} {
		raw := waitMail(t, data, m.address)
		found := regexp.MustCompile(`Your voice mail PIN is: ([0-9]+)\r\n`).FindSubmatch(raw)
		if found == nil || !bytes.Contains(raw, []byte("Your extension: "+m.ext)) {
			t.Fatalf("%s: the mail gives no PIN or extension:\n%s", m.address, raw)
		}
		if bytes.Contains(out.Bytes(), found[1]) {
			t.Errorf("%s: the PIN is in the command's output", m.address)
		}
		res, err := svc.Begin("DP1", logon.Source{Gateway: "gw1", CallID: "call-" + m.ext}).Logon(ctx, m.ext, string(found[1]))
		if err != nil || res.Outcome != logon.PINExpired {
			t.Errorf("%s logs on with the mailed PIN: %v, %v; want PINExpired", m.address, res.Outcome, err)
		}
	}
}

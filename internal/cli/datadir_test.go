package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/storetest"
)

// What the tests of a data directory share: they run the command line on
// it, then look at it as openum serve would, through its directory, its
// spool and the Maildirs its delivery writes.

// openumOn returns a function that runs the command line on the data
// directory data, its output and errors appended to out, and fails t
// unless it exits 0.
func openumOn(t *testing.T, data string, out *bytes.Buffer) func(args ...string) {
	return func(args ...string) {
		t.Helper()
		if code := Main(append([]string{"--data", data}, args...), out, out); code != 0 {
			t.Fatalf("openum %v: exit %d\n%s", args, code, out.String())
		}
	}
}

// openDirectory opens data's directory, as one more process would, until
// t ends.
func openDirectory(t *testing.T, data string) *sqlite.Store {
	t.Helper()
	return storetest.Open(t, sqlite.Open, filepath.Join(data, "directory.db"))
}

// startDelivery runs, until t ends, the delivery openum serve runs on
// data: from its spool into the Maildirs under data/mail, with its event
// log. The worker's Spool and Events are those.
func startDelivery(t *testing.T, data string) *delivery.Worker {
	t.Helper()
	log, err := events.Open(filepath.Join(data, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	spool, err := delivery.OpenSpool(filepath.Join(data, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	w := &delivery.Worker{Spool: spool, Transport: delivery.Maildir{Dir: filepath.Join(data, "mail")}, Events: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	// Stopped before the log closes (cleanups run last first).
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return w
}

// waitMail returns the one mail delivered into address's Maildir under
// data/mail, waiting for it up to 10 s.
func waitMail(t *testing.T, data, address string) []byte {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(data, "mail", delivery.MaildirName(address), "new", "*"))
		if len(files) == 1 {
			if raw, err := os.ReadFile(files[0]); err == nil {
				return raw
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no mail in its Maildir after 10 s", address)
		}
	}
}

package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/sip"
)

// refusal is the JSON body of an operation refused.
type refusal struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

func (f *liveFixture) auditLen() int {
	f.t.Helper()
	records, err := f.dir.Audit(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return len(records)
}

// A readonly token reads every noun but changes nothing: each change is
// 403 with a JSON reason, and the directory has no new audit record.
func TestAPIReadonlyChangesNothing(t *testing.T) {
	f := newLiveFixture(t)
	for _, path := range []string{"/api/v1/dialplan", "/api/v1/gateway", "/api/v1/huntgroup", "/api/v1/policy", "/api/v1/mailbox", "/api/v1/server",
		"/api/v1/dialplan/OPEN", "/api/v1/dialplan/OPEN/rules", "/api/v1/mailbox/alice@example.test", "/api/v1/audit"} {
		if code, body := f.do(directory.RoleReadonly, "GET", path, nil); code != 200 || !json.Valid(body) {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	before := f.auditLen()
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/dialplan/DP2", map[string]any{"number-of-digits-in-extension": 4}},
		{"PATCH", "/api/v1/dialplan/OPEN", map[string]any{"voip-security": "SIPSecured"}},
		{"DELETE", "/api/v1/dialplan/OPEN?force=1", nil},
		{"POST", "/api/v1/dialplan/OPEN/rule-add", map[string]any{"in-country": true, "name": "Local", "mask": "9xxxxxxx", "dialed": "9xxxxxxx"}},
		{"POST", "/api/v1/dialplan/OPEN/rule-import", map[string]any{"international": true, "csv": "Any,9011*,9011*"}},
		{"PATCH", "/api/v1/gateway/GW2", map[string]any{"status": "Disabled"}},
		{"POST", "/api/v1/mailbox/alice@example.test/unlock", nil},
		{"POST", "/api/v1/mailbox/alice@example.test/set-pin", map[string]any{"pin": "918273"}},
		{"POST", "/api/v1/mailbox/alice@example.test/reset-pin", nil},
		{"DELETE", "/api/v1/mailbox/alice@example.test", nil},
		{"PATCH", "/api/v1/server/um.localhost", map[string]any{"status": "Disabled"}},
		{"PATCH", "/api/v1/server", map[string]any{"status": "Disabled"}},
	} {
		code, body := f.do(directory.RoleReadonly, c.method, c.path, c.body)
		var r refusal
		if code != 403 || json.Unmarshal(body, &r) != nil || !strings.Contains(r.Error, "role") {
			t.Errorf("%s %s with a readonly token: %d %s", c.method, c.path, code, body)
		}
	}
	if after := f.auditLen(); after != before {
		t.Errorf("readonly requests wrote %d audit records", after-before)
	}
	f.checkNoSecrets()
}

// An admin token makes, over the API, a dial plan, its hunt group and its
// place on the server; the running server answers the next call to the
// new pilot, without a restart; the audit log names the token.
func TestAPIAdminMakesADialPlanTheServerAnswers(t *testing.T) {
	f := newLiveFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rejected *sip.RejectedError
	if _, err := f.callTo(ctx, "6000"); !errors.As(err, &rejected) {
		t.Fatalf("a call to 6000 before the change: %v", err)
	}
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/api/v1/dialplan/DP2", map[string]any{"number-of-digits-in-extension": 4, "access-telephone-numbers": []string{"6001"}}, 201},
		{"POST", "/api/v1/huntgroup/HG2", map[string]any{"gateway": "GW2", "dialplan": "DP2", "pilot-identifier": "6000"}, 201},
		{"PATCH", "/api/v1/server/um.localhost", map[string]any{"dialplans": []string{"OPEN", "DP2"}}, 200},
	} {
		if code, body := f.do(directory.RoleAdmin, c.method, c.path, c.body); code != c.want {
			t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
		}
	}
	code, body := f.do(directory.RoleReadonly, "GET", "/api/v1/dialplan/DP2", nil)
	var dp directory.DialPlan
	if code != 200 || json.Unmarshal(body, &dp) != nil || dp.NumberOfDigitsInExtension != 4 || dp.AccessTelephoneNumbers[0] != "6001" {
		t.Errorf("GET dialplan DP2: %d %s", code, body)
	}
	// openum serve's watch, which polls, does this within its period.
	if err := f.watch.Check(ctx); err != nil {
		t.Fatal(err)
	}
	call, err := f.callTo(ctx, "6000")
	if err != nil {
		t.Fatalf("the call to the new dial plan's pilot: %v", err)
	}
	call.Hangup(ctx)

	// A new PIN: shown once, in the answer to the request that made it.
	code, body = f.do(directory.RoleAdmin, "POST", "/api/v1/mailbox/alice@example.test/reset-pin", nil)
	var reset struct {
		EmailAddress, PIN string
		PINExpired        bool
	}
	if code != 200 || json.Unmarshal(body, &reset) != nil || len(reset.PIN) < 6 || !reset.PINExpired {
		t.Errorf("reset-pin: %d %s", code, body)
	}
	if _, again := f.do(directory.RoleAdmin, "GET", "/api/v1/mailbox/alice@example.test", nil); strings.Contains(string(again), reset.PIN) {
		t.Error("GET mailbox shows the PIN again")
	}

	code, body = f.do(directory.RoleReadonly, "GET", "/api/v1/audit", nil)
	var records []directory.AuditRecord
	if code != 200 || json.Unmarshal(body, &records) != nil {
		t.Fatalf("GET audit: %d %s", code, body)
	}
	last := records[len(records)-4:]
	for i, want := range []string{"admin API: dialplan new DP2 --number-of-digits-in-extension 4 --access-telephone-numbers 6001",
		"admin API: huntgroup new HG2 --gateway GW2 --dialplan DP2 --pilot-identifier 6000",
		"admin API: server set um.localhost --dialplans OPEN --dialplans DP2",
		"admin API: mailbox reset-pin alice@example.test"} {
		if last[i].User != "admin-token" || last[i].Command != want {
			t.Errorf("audit record %d: %s %q, want admin-token %q", i, last[i].User, last[i].Command, want)
		}
	}
	f.checkNoSecrets()
}

// Refusals are one line of JSON with the status their kind calls for and
// the field they blame; none writes anything. An operator sets a
// gateway's status and unlocks a mailbox, and no more.
func TestAPIRefusalsAndTheOperator(t *testing.T) {
	f := newLiveFixture(t)
	before := f.auditLen()
	for _, c := range []struct {
		method, path string
		body         string
		want         int
		field        string
	}{
		{"POST", "/api/v1/dialplan/BAD", `{"number-of-digits-in-extension": "five"}`, 400, "number-of-digits-in-extension"},
		{"POST", "/api/v1/dialplan/BAD", `{"number-of-digits-in-extension": 99}`, 400, "NumberOfDigitsInExtension"},
		{"POST", "/api/v1/dialplan/BAD", `{"number-of-digits-in-extension": 5, "colour": "red"}`, 400, "colour"},
		{"POST", "/api/v1/dialplan/BAD", `{}`, 400, "number-of-digits-in-extension"},
		{"POST", "/api/v1/dialplan/BAD", `{"number-of-digits-in-extension": {"n": 5}}`, 400, "number-of-digits-in-extension"},
		{"PATCH", "/api/v1/gateway/GW2", `{"address": "gw..bad"}`, 400, "Address"},
		{"GET", "/api/v1/dialplan/NOPE", ``, 404, ""},
		{"PATCH", "/api/v1/huntgroup/NOPE", `{"pilot-identifier": "1"}`, 404, ""},
		{"POST", "/api/v1/dialplan/open", `{"number-of-digits-in-extension": 5}`, 409, ""},
		{"DELETE", "/api/v1/dialplan/OPEN", ``, 409, ""},
		{"DELETE", "/api/v1/server/um.localhost", ``, 404, "-"}, // a server record has no remove
	} {
		var body any
		if c.body != "" {
			body = json.RawMessage(c.body)
		}
		code, answer := f.do(directory.RoleAdmin, c.method, c.path, body)
		if code != c.want {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, code, answer, c.want)
			continue
		}
		var r refusal
		if c.field == "-" {
			continue // the mux's own answer: there is no such operation
		}
		if err := json.Unmarshal(answer, &r); err != nil || r.Error == "" || strings.Contains(r.Error, "\n") || r.Field != c.field {
			t.Errorf("%s %s %s: %s, want one line naming field %q", c.method, c.path, c.body, answer, c.field)
		}
	}
	if after := f.auditLen(); after != before {
		t.Errorf("refused requests wrote %d audit records", after-before)
	}

	// The operator: a gateway's status and an unlock, not its address.
	f.update(func(s *directory.Snapshot) error {
		m, _ := s.Mailbox("alice@example.test")
		m.LockedOut, m.LogonFailures = true, 5
		return nil
	})
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"PATCH", "/api/v1/gateway/GW2", map[string]any{"status": "NoNewCalls"}, 200},
		{"PATCH", "/api/v1/gateway/GW2", map[string]any{"status": "Enabled", "address": "127.0.0.3"}, 403},
		{"POST", "/api/v1/mailbox/alice@example.test/unlock", nil, 200},
		{"POST", "/api/v1/dialplan/DP3", map[string]any{"number-of-digits-in-extension": 4}, 403},
		{"POST", "/api/v1/mailbox/alice@example.test/reset-pin", nil, 403},
	} {
		if code, body := f.do(directory.RoleOperator, c.method, c.path, c.body); code != c.want {
			t.Errorf("operator %s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
		}
	}
	snap, _ := f.dir.Snapshot(context.Background())
	gw, _ := snap.IPGateway("GW2")
	m, _ := snap.Mailbox("alice@example.test")
	if gw.Status != directory.NoNewCalls || gw.Address != "127.0.0.2" || m.LockedOut || m.LogonFailures != 0 {
		t.Errorf("after the operator: gateway %s %s, mailbox locked %v failures %d", gw.Status, gw.Address, m.LockedOut, m.LogonFailures)
	}
	f.checkNoSecrets()
}

// A store that fails is no refusal: the client gets a bare 500 that says
// nothing of the store, and the event log (9602) has the detail and the
// token's name.
func TestAPIStoreFailureIsInternal(t *testing.T) {
	f := newLiveFixture(t)
	f.dir.Close() // the directory's database is gone; the tokens stay in the watcher's copy
	code, body := f.do(directory.RoleAdmin, "PATCH", "/api/v1/gateway/GW2", map[string]any{"status": "Disabled"})
	if code != 500 || strings.TrimSpace(string(body)) != `{"error":"internal error"}` {
		t.Errorf("PATCH gateway on a closed directory: %d %s, want 500 and nothing more", code, body)
	}
	records, err := events.Read(filepath.Join(f.data, "events.log"), events.Filter{ID: events.AdminRequestFailed})
	if err != nil || len(records) != 1 {
		t.Fatalf("9602 events: %v %d", err, len(records))
	}
	if a := records[0].Attrs; a["Token"] != "admin-token" || a["Path"] != "/api/v1/gateway/GW2" || !strings.Contains(fmt.Sprint(a["Error"]), "closed") {
		t.Errorf("9602: %v", a)
	}
	f.checkNoSecrets()
}

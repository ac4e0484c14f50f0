package admin_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/cli"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/testpki"
)

// apiError is the API's JSON refusal.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

func wantField(t *testing.T, status int, body []byte, field string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); status != http.StatusBadRequest || err != nil || e.Field != field || e.Error == "" {
		t.Errorf("want 400 naming %s; got %d %s", field, status, body)
	}
}

// A call in progress is listed; readonly may not drain; an operator's
// drain marks the record NoNewCalls (audited with the token's name), new
// calls are refused, and the answer comes when the last call ends.
func TestLiveCallsAndDrain(t *testing.T) {
	f := newLiveFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := f.call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status, body := f.do(directory.RoleReadonly, "GET", "/api/v1/calls", nil)
	var calls struct {
		Total int
		Calls []sip.CallInfo
	}
	if err := json.Unmarshal(body, &calls); status != 200 || err != nil || calls.Total != 1 || len(calls.Calls) != 1 ||
		calls.Calls[0].Caller != "5551234" || calls.Calls[0].CallID == "" || calls.Calls[0].DialPlan != "OPEN" || calls.Calls[0].PlacedBy != "gateway GW2" {
		t.Fatalf("calls: %d %s", status, body)
	}
	if status, _ := f.do("", "GET", "/api/v1/calls", nil); status != http.StatusUnauthorized {
		t.Errorf("no token: %d", status)
	}
	if status, _ := f.do(directory.RoleReadonly, "POST", "/api/v1/server/drain", nil); status != http.StatusForbidden {
		t.Errorf("readonly drain: %d", status)
	}
	status, body = f.do(directory.RoleOperator, "POST", "/api/v1/server/drain?wait=soon", nil)
	wantField(t, status, body, "wait")
	snap, _ := f.dir.Snapshot(ctx)
	if sv, _ := snap.Server("um.localhost"); sv.Status != directory.Enabled {
		t.Fatalf("a refused drain changed the record: %s", sv.Status)
	}

	// A short wait ends with the call still up.
	status, body = f.do(directory.RoleOperator, "POST", "/api/v1/server/drain?wait=200ms", nil)
	var drained struct {
		Status    directory.Status
		Drained   bool
		CallsLeft int
	}
	if err := json.Unmarshal(body, &drained); status != 200 || err != nil || drained.Drained || drained.CallsLeft != 1 || drained.Status != directory.NoNewCalls {
		t.Fatalf("drain with a call up: %d %s", status, body)
	}
	audit, err := f.dir.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.User != "operator-token" || !strings.Contains(last.Command, "admin API: server set um.localhost --status NoNewCalls") {
		t.Errorf("audit: %+v", last)
	}
	if err := f.watch.Check(ctx); err != nil { // as openum serve's watch does
		t.Fatal(err)
	}
	var rejected *sip.RejectedError
	if _, err := f.call(ctx); !errors.As(err, &rejected) || rejected.Status != 503 {
		t.Errorf("a new call while draining: %v", err)
	}

	// A drain that waits gets its answer when the last call ends.
	done := make(chan []byte, 1)
	go func() {
		status, body := f.do(directory.RoleOperator, "POST", "/api/v1/server/drain?wait=20s", nil)
		if status != 200 {
			t.Errorf("drain: %d %s", status, body)
		}
		done <- body
	}()
	select {
	case body := <-done:
		t.Fatalf("the drain ended with a call up: %s", body)
	case <-time.After(500 * time.Millisecond):
	}
	hungUp := time.Now()
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-done:
		if err := json.Unmarshal(body, &drained); err != nil || !drained.Drained || drained.CallsLeft != 0 {
			t.Errorf("drain: %s", body)
		}
		t.Logf("drain answered %v after the hang-up", time.Since(hungUp).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the drain did not end when the last call did")
	}
	f.checkNoSecrets()
}

// The event log as JSON lines, filtered; a follow receives a record
// written after it began, and not the older ones.
func TestLiveEvents(t *testing.T) {
	f := newLiveFixture(t)
	status, body := f.do(directory.RoleReadonly, "GET", "/api/v1/events?since=yesterday", nil)
	wantField(t, status, body, "since")
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/events?id=96x", nil)
	wantField(t, status, body, "id")
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/events?follow=maybe", nil)
	wantField(t, status, body, "follow")

	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/events?id=9601&since=1h", nil)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	var rec events.Record
	if err := json.Unmarshal([]byte(lines[0]), &rec); status != 200 || err != nil || len(lines) != 1 || rec.EventID != events.AdminListening {
		t.Fatalf("events: %d %s", status, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f.log.Emit(ctx, events.CertificateStoreChanged, "before the follow", slog.String("Marker", "old"))
	req, _ := http.NewRequestWithContext(ctx, "GET", f.api.URL()+"/api/v1/events?follow=1&id=9108", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[directory.RoleReadonly])
	resp, err := f.client(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f.log.Emit(ctx, events.CertificateChanged, "another ID", slog.String("Marker", "other"))
	f.log.Emit(ctx, events.CertificateStoreChanged, "after the follow began", slog.String("Marker", "new"))
	follow := bufio.NewReader(resp.Body)
	line, err := follow.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	f.keep(line)
	if err := json.Unmarshal(line, &rec); err != nil || rec.Attrs["Marker"] != "new" {
		t.Errorf("first record followed: %s", line)
	}
	f.checkNoSecrets()

	// Shutdown ends the stream, rather than waiting on it.
	stopped := time.Now()
	if err := f.api.Shutdown(ctx); err != nil {
		t.Errorf("shutdown with a follow open: %v", err)
	}
	if _, err := follow.ReadBytes('\n'); err == nil {
		t.Error("the follow went on after shutdown")
	}
	if d := time.Since(stopped); d > 2*time.Second {
		t.Errorf("shutdown took %v with a follow open", d)
	}
}

// Messages: list and get for readonly, the audio export byte for byte
// what openum message export writes, Play on Phone for an operator within
// the dialing rules, remove for an admin only, audited with its name.
func TestLiveMessages(t *testing.T) {
	f := newLiveFixture(t)
	ctx := context.Background()
	id := strconv.FormatInt(f.message, 10)
	status, body := f.do(directory.RoleReadonly, "GET", "/api/v1/messages?mailbox=alice@example.test&state=new", nil)
	var list []msgstore.Message
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list) != 1 || list[0].ID != f.message || list[0].CallerNumber != "5551234" {
		t.Fatalf("list: %d %s", status, body)
	}
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/messages?mailbox=alice@example.test&state=lost", nil)
	wantField(t, status, body, "state")
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/messages", nil)
	wantField(t, status, body, "mailbox")
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/messages/x1", nil)
	wantField(t, status, body, "id")
	if status, body := f.do(directory.RoleReadonly, "GET", "/api/v1/messages/99999", nil); status != http.StatusNotFound {
		t.Errorf("no such message: %d %s", status, body)
	}
	status, body = f.do(directory.RoleReadonly, "GET", "/api/v1/messages/"+id, nil)
	var m msgstore.Message
	if err := json.Unmarshal(body, &m); status != 200 || err != nil || m.ID != f.message || len(m.History) == 0 {
		t.Fatalf("get: %d %s", status, body)
	}

	// The audio, as the command line exports it from the same store.
	status, wav := f.do(directory.RoleReadonly, "GET", "/api/v1/messages/"+id+"/audio", nil)
	out := filepath.Join(t.TempDir(), "m.wav")
	var stdout, stderr strings.Builder
	if code := cli.Main([]string{"--data", f.data, "message", "export", id, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("openum message export: %d %s", code, stderr.String())
	}
	exported, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || len(wav) < 44 || string(wav) != string(exported) {
		t.Errorf("audio: %d, %d bytes; export wrote %d bytes", status, len(wav), len(exported))
	}

	// Play on Phone: validated, then refused by the dial plan's rules
	// (none allow a call), so nothing is dialled; event 9500.
	if status, _ := f.do(directory.RoleReadonly, "POST", "/api/v1/messages/"+id+"/play-on-phone", map[string]string{"Phone": "0612345678"}); status != http.StatusForbidden {
		t.Errorf("readonly play-on-phone: %d", status)
	}
	status, body = f.do(directory.RoleOperator, "POST", "/api/v1/messages/"+id+"/play-on-phone", map[string]string{"As": "alice@example.test"})
	wantField(t, status, body, "Phone")
	status, body = f.do(directory.RoleOperator, "POST", "/api/v1/messages/"+id+"/play-on-phone", map[string]string{"Phone": "0612345678"})
	var res struct{ Outcome, Reason string }
	if err := json.Unmarshal(body, &res); status != 200 || err != nil || res.Outcome != "refused" {
		t.Errorf("play-on-phone: %d %s", status, body)
	}
	if recs, _ := events.Read(filepath.Join(f.data, "events.log"), events.Filter{ID: events.DialRestricted}); len(recs) != 1 || recs[0].Attrs["user"] != "operator-token" {
		t.Errorf("9500 naming the operator's token: %v", recs)
	}

	// Remove: an admin's only, audited with the token's name.
	for _, role := range []directory.AdminRole{directory.RoleReadonly, directory.RoleOperator} {
		if status, _ := f.do(role, "DELETE", "/api/v1/messages/"+id, nil); status != http.StatusForbidden {
			t.Errorf("%s remove: %d", role, status)
		}
	}
	status, body = f.do(directory.RoleAdmin, "DELETE", "/api/v1/messages/"+id, nil)
	if err := json.Unmarshal(body, &m); status != 200 || err != nil || m.State != msgstore.Deleted {
		t.Fatalf("remove: %d %s", status, body)
	}
	audit, err := f.msgs.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.User != "admin-token" || last.Command != "admin API: DELETE /api/v1/messages/"+id {
		t.Errorf("audit: %+v", last)
	}
	f.checkNoSecrets()
}

// An administrator's certificate that chains to the trusted store and
// names a token acts as that token, at most --admin-client-cert-role;
// one that names no token, or does not chain, is refused with a bare 401
// and a 9600; a cross-site POST carrying the certificate is refused.
func TestLiveClientCertificates(t *testing.T) {
	f := newLiveFixture(t)
	identity := func(ca *testpki.CA, cn string) *tls.Certificate {
		cert, key := ca.Issue(t, testpki.Leaf{CN: cn})
		f.secrets = append(f.secrets, keyLine(testpki.PEM(t, key)))
		return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
	}
	alice := f.client(identity(f.ca, "alice-admin"))
	if status, body := f.send(alice, "", "GET", "/api/v1/calls", nil); status != 200 {
		t.Errorf("alice's certificate: %d %s", status, body)
	}
	// alice-admin's token is admin; certificates give operator at most.
	if status, _ := f.send(alice, "", "DELETE", "/api/v1/messages/"+strconv.FormatInt(f.message, 10), nil); status != http.StatusForbidden {
		t.Errorf("a certificate above its role: %d", status)
	}
	// A browser sends a page's request with the certificate: refused.
	req, _ := http.NewRequest("POST", f.api.URL()+"/api/v1/server/drain?wait=0s", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := alice.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site drain: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	stranger := testpki.NewRootCA(t, "Stranger CA")
	for name, c := range map[string]*http.Client{
		"names no token": f.client(identity(f.ca, "mallory")),
		"does not chain": f.client(identity(stranger, "alice-admin")),
	} {
		status, body := f.send(c, f.tokens[directory.RoleAdmin], "GET", "/api/v1/calls", nil)
		if status != http.StatusUnauthorized || string(body) != "unauthorized\n" {
			t.Errorf("a certificate that %s: %d %q", name, status, body)
		}
	}
	recs, _ := events.Read(filepath.Join(f.data, "events.log"), events.Filter{ID: events.AdminAuthFailed})
	var details []string
	for _, r := range recs {
		if r.Attrs["Reason"] != "certificate" || r.Attrs["Thumbprint"] == "" {
			t.Errorf("9600: %v", r.Attrs)
		}
		details = append(details, r.Attrs["Detail"].(string))
	}
	if all := strings.Join(details, "|"); len(recs) != 2 || !strings.Contains(all, "names no admin token") || !strings.Contains(all, "refused: x509") {
		t.Errorf("9600s: %q", details)
	}
	snap, _ := f.dir.Snapshot(context.Background())
	if sv, _ := snap.Server("um.localhost"); sv.Status != directory.Enabled {
		t.Errorf("the cross-site drain drained: %s", sv.Status)
	}
	f.checkNoSecrets()
}

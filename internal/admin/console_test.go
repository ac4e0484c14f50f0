package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// consoleFixture is a Server with a console whose tokens the test changes.
type consoleFixture struct {
	t         *testing.T
	h         http.Handler
	mu        sync.Mutex
	tokens    []directory.AdminToken
	mailboxes []directory.Mailbox
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	f := &consoleFixture{t: t}
	snap := func(context.Context) (*directory.Snapshot, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return &directory.Snapshot{AdminTokens: slices.Clone(f.tokens), Mailboxes: directory.MailboxesOf(slices.Clone(f.mailboxes)...)}, nil
	}
	s, err := New(Config{Addr: "127.0.0.1:0", PlainHTTP: true, Snapshot: snap, Console: &Console{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.ln.Close() })
	f.h = s.http.Handler
	return f
}

func (f *consoleFixture) token(name string, role directory.AdminRole) string {
	tok, hash := NewToken()
	f.mu.Lock()
	f.tokens = append(f.tokens, directory.AdminToken{Name: name, Role: role, Hash: hash})
	f.mu.Unlock()
	return tok
}

// do sends a request from src with the cookie, if any, and returns the answer.
func (f *consoleFixture) do(method, path, src string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	r.RemoteAddr = src
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// logon posts token and returns the session cookie, nil when refused.
func (f *consoleFixture) logon(token, src string) *http.Cookie {
	w := f.do("POST", "/console/logon", src, nil, url.Values{"token": {token}})
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie && w.Code == http.StatusSeeOther {
			return c
		}
	}
	return nil
}

// The session cookie is random, HttpOnly, Secure, SameSite=Strict and
// never the token; a removed token ends its sessions.
func TestConsoleSessionCookie(t *testing.T) {
	f := newConsoleFixture(t)
	tok := f.token("ops", directory.RoleOperator)
	c := f.logon(tok, "192.0.2.1:1")
	if c == nil {
		t.Fatal("logon refused")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 0 || strings.Contains(c.Value, tok) || strings.Contains(c.Value, HashToken(tok)) {
		t.Errorf("cookie %+v", c)
	}
	w := f.do("GET", "/console/", "192.0.2.1:1", c, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "ops (operator)") {
		t.Fatalf("overview: %d\n%s", w.Code, w.Body)
	}
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if !strings.Contains(w.Header().Get(h), want) {
			t.Errorf("%s: %q", h, w.Header().Get(h))
		}
	}
	f.mu.Lock()
	f.tokens = nil
	f.mu.Unlock()
	if w := f.do("GET", "/console/", "192.0.2.1:1", c, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/logon" {
		t.Errorf("a removed token's session: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// The logon form shares the API's failure limit per source: after the
// failures a source may have, its right token is refused too.
func TestConsoleLogonIsRateLimited(t *testing.T) {
	f := newConsoleFixture(t)
	tok := f.token("ops", directory.RoleOperator)
	bad, _ := NewToken()
	for range failureBurst {
		if w := f.do("POST", "/console/logon", "192.0.2.9:1", nil, url.Values{"token": {bad}}); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "unknown") {
			t.Fatalf("a wrong token: %d\n%s", w.Code, w.Body)
		}
	}
	if f.logon(tok, "192.0.2.9:2") != nil {
		t.Error("a rate-limited source logged on")
	}
	if f.logon(tok, "192.0.2.10:1") == nil {
		t.Error("another source was refused")
	}
}

// With many mailboxes, the page shows those that need an operator first
// and says how many it leaves out.
func TestConsoleMailboxesNeedingAttentionFirst(t *testing.T) {
	f := newConsoleFixture(t)
	for i := range maxMailboxRows + 100 {
		f.mailboxes = append(f.mailboxes, directory.Mailbox{EmailAddress: fmt.Sprintf("u%d@example.test", i)})
	}
	f.mailboxes[len(f.mailboxes)-1].LockedOut = true
	c := f.logon(f.token("viewer", directory.RoleReadonly), "192.0.2.1:1")
	body := f.do("GET", "/console/mailboxes", "192.0.2.1:1", c, nil).Body.String()
	locked := fmt.Sprintf("u%d@example.test", maxMailboxRows+99)
	if i := strings.Index(body, "<td>"+locked); i < 0 || i > strings.Index(body, "<td>u0@example.test") || !strings.Contains(body, "100 more mailboxes") {
		t.Errorf("mailboxes page:\n%s", body)
	}
	if strings.Contains(body, "<button type=\"submit\">Unlock") {
		t.Error("a readonly token is shown the Unlock button")
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// A change needs an operator token and the session's CSRF field.
func TestConsoleChangesNeedOperatorAndCSRF(t *testing.T) {
	f := newConsoleFixture(t)
	ro := f.logon(f.token("viewer", directory.RoleReadonly), "192.0.2.1:1")
	op := f.logon(f.token("ops", directory.RoleOperator), "192.0.2.1:1")
	csrfOf := func(c *http.Cookie) string {
		m := csrfField.FindStringSubmatch(f.do("GET", "/console/", "192.0.2.1:1", c, nil).Body.String())
		if m == nil {
			t.Fatal("no CSRF field")
		}
		return m[1]
	}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		csrf   string
		want   int
	}{
		{"readonly", ro, csrfOf(ro), 403},
		{"no CSRF field", op, "", 403},
		{"another session's CSRF field", op, csrfOf(ro), 403},
		// Past the checks: this console has no directory to change.
		{"operator", op, csrfOf(op), 400},
	} {
		w := f.do("POST", "/console/drain", "192.0.2.1:1", tc.cookie, url.Values{"csrf": {tc.csrf}})
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d\n%s", tc.name, w.Code, tc.want, w.Body)
		}
	}
	r := httptest.NewRequest("POST", "/console/drain", strings.NewReader("csrf="+csrfOf(op)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(op)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 403 {
		t.Errorf("a cross-site POST: %d", w.Code)
	}
}

// The event page's filter reads what a browser sends: it never panics, and
// what it takes is in range.
func FuzzEventQuery(f *testing.F) {
	f.Add("9600", "2h", "Warning")
	f.Add("", "2026-12-01T08:00", "")
	f.Add("-1", "-5m", "Debug")
	f.Fuzz(func(t *testing.T, id, since, level string) {
		r := httptest.NewRequest("GET", "/console/events?"+url.Values{"id": {id}, "since": {since}, "level": {level}}.Encode(), nil)
		q, err := parseEventQuery(r)
		if err != nil {
			return
		}
		if q.ID < 0 || id != "" && q.ID == 0 || q.MinLevel != "" && !slices.Contains(levels, q.MinLevel) {
			t.Errorf("id %q since %q level %q taken as %+v", id, since, level, q)
		}
	})
}

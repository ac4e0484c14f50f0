package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/peertest"
)

// browser is a headless Chromium on a tab of its own, which fails the test
// on any console error, uncaught exception or CSP violation.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
}

// newBrowser starts Debian's chromium trusting only the certificate in
// certFile, by the SHA-256 of its public key
// (--ignore-certificate-errors-spki-list, which Chromium honours only with
// a user data directory of the test's own): no other certificate error is
// ignored.
func newBrowser(t *testing.T, base, certFile string) *browser {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the web console test needs Debian's chromium: apt-get install chromium")
	}
	block, _ := pem.Decode(must(os.ReadFile(certFile)))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	root, cancelRoot := context.WithTimeout(context.Background(), 3*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelRoot() })
	b := &browser{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// do runs steps, failing the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression on the page (run by
// DevTools, which the page's CSP does not restrict).
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// text is the text of the page's main part.
func (b *browser) text() string { return eval[string](b, "document.querySelector('main').innerText") }

// logon logs on with token from the form.
func (b *browser) logon(token string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+"/console/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("form.logon button")),
		chromedp.WaitVisible(chromedp.CSS("header form.who")))
}

// screenshot saves the page as name in a temporary folder and in the
// artifacts folder testdata/out (ignored by git), and returns its path.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(b.t.TempDir(), name)
	for _, p := range []string{path, filepath.Join("testdata", "out", name)} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	return path
}

// checkClean fails the test on what the browser reported.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
	b.problems = nil
}

// The web console in Chromium against a running openum serve: log on with
// an operator token, see a call in progress on the overview while it is
// up, unlock a locked-out mailbox (audited with the token's name), set a
// gateway's status and drain the server; a readonly token sees no button.
// No page makes the browser report an error or a CSP violation.
func TestWebConsoleInChromium(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	operator, readonly := s.newToken("ops", "operator"), s.newToken("viewer", "readonly")
	s.lockOut("bob@example.test")
	port := peertest.FreePort(t)
	tcpPort, _ := s.serve("--admin-listen", fmt.Sprintf("127.0.0.1:%d", port))
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	b := newBrowser(t, base, s.path("um.crt"))

	b.do(chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "oum_"+strings.Repeat("A", 43)), chromedp.Click(chromedp.CSS("form.logon button")),
		chromedp.WaitVisible(chromedp.CSS("p.error")), chromedp.Sleep(300*time.Millisecond))
	b.mu.Lock()
	b.problems = nil // the 401 of a wrong token is logged as a failed load: as it should be
	b.mu.Unlock()
	b.logon(operator)

	s.sh("sox -n -r 8000 -c 1 -b 16 sil.wav trim 0 10")
	done := make(chan struct{})
	go func() { defer close(done); s.unsecuredCall(tcpPort, s.path("sil.wav"), 8) }()
	calls := ""
	waitFor(t, func() bool {
		b.do(chromedp.Navigate(base + "/console/"))
		calls = eval[string](b, "document.getElementById('calls').innerText")
		return calls == "1"
	})
	if calls != "1" {
		t.Errorf("calls in progress on the overview during a call: %q, want 1", calls)
	}
	if page := b.text(); !strings.Contains(page, "OPEN (Unsecured): 1") || !strings.Contains(page, "SIP TCP") {
		t.Errorf("overview during the call:\n%s", page)
	}
	t.Logf("screenshot: %s", b.screenshot("console-overview.png"))
	<-done

	b.do(chromedp.Navigate(base+"/console/mailboxes"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if page := b.text(); !strings.Contains(page, "locked out") {
		t.Fatalf("mailboxes page does not show bob locked out:\n%s", page)
	}
	b.screenshot("console-mailboxes.png")
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/unlock"] button`)), chromedp.WaitVisible(chromedp.CSS("p.done")))
	if page := b.text(); strings.Contains(page, "locked out") || !strings.Contains(page, "unlocked") {
		t.Errorf("after unlock:\n%s", page)
	}
	if audit := s.openum("audit"); !strings.Contains(audit, "ops") || !strings.Contains(audit, "web console: mailbox unlock bob@example.test") {
		t.Errorf("the unlock is not audited with the token's name:\n%s", audit)
	}

	b.do(chromedp.Navigate(base+"/console/gateways"), chromedp.WaitVisible(chromedp.CSS("main table")),
		chromedp.SetValue(chromedp.CSS(`form[action$="/status"] select`), "NoNewCalls"),
		chromedp.Click(chromedp.CSS(`form[action$="/status"] button`)), chromedp.WaitVisible(chromedp.CSS("p.done")))
	if page := b.text(); !strings.Contains(page, "NoNewCalls") {
		t.Errorf("after setting the gateway NoNewCalls:\n%s", page)
	}
	for _, p := range []string{"dialplans", "huntgroups", "certificates", "events?level=Warning&since=1h"} {
		b.do(chromedp.Navigate(base+"/console/"+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		b.screenshot("console-" + strings.Split(p, "?")[0] + ".png")
	}
	if page := b.text(); !strings.Contains(page, "9600") {
		t.Errorf("the event log does not show the failed logon (9600):\n%s", page)
	}
	b.do(chromedp.Navigate(base+"/console/"), chromedp.Click(chromedp.CSS(`form[action="/console/drain"] button`)),
		chromedp.WaitVisible(chromedp.CSS("p.done")))
	if page := b.text(); !strings.Contains(page, "NoNewCalls") {
		t.Errorf("after drain:\n%s", page)
	}
	ready := ""
	waitFor(t, func() bool {
		_, ready = s.adminClient(port).get("/readyz", "")
		return strings.Contains(ready, "NoNewCalls")
	})
	if !strings.Contains(ready, "not ready") {
		t.Errorf("/readyz after drain: %s", ready)
	}
	b.checkClean()

	b.do(chromedp.Click(chromedp.CSS("header form.who button")), chromedp.WaitVisible(chromedp.ID("token")))
	b.logon(readonly)
	for _, p := range []string{"/console/", "/console/gateways", "/console/mailboxes"} {
		b.do(chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if n := eval[int](b, "document.querySelectorAll('main form[method=post], main button').length"); n != 0 {
			t.Errorf("%s shows a readonly token %d forms or buttons", p, n)
		}
	}
	b.checkClean()

	// The CSP is in force and a violation is caught: an inline script is refused.
	eval[bool](b, "(() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.appendChild(s); return true })()")
	time.Sleep(500 * time.Millisecond)
	b.mu.Lock()
	caught := strings.Join(b.problems, "\n")
	b.problems = nil
	b.mu.Unlock()
	if !strings.Contains(caught, "Content Security Policy") {
		t.Errorf("an inline script was not reported as a CSP violation: %q", caught)
	}

	consolePOSTs(t, s, base, operator, readonly)
}

// consolePOSTs checks the console's changes from a plain HTTP client: a
// readonly session gets 403, a POST without the CSRF field or from
// another origin is refused and changes nothing.
func consolePOSTs(t *testing.T, s *site, base, operator, readonly string) {
	s.lockOut("bob@example.test")
	unlock := base + "/console/mailboxes/bob@example.test/unlock"
	for _, tc := range []struct {
		token, csrf, origin string
		want                int
	}{
		{readonly, "", "", 403},
		{operator, "wrong", "", 403},
		{operator, "", "https://evil.example", 403},
		{operator, "", "", 303},
	} {
		c := s.adminClient(0)
		c.http.Jar, _ = cookiejar.New(nil)
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := c.http.PostForm(base+"/console/logon", url.Values{"token": {tc.token}})
		if err != nil || res.StatusCode != 303 {
			t.Fatalf("log on: %v %v", res, err)
		}
		res.Body.Close()
		csrf := tc.csrf
		if csrf == "" {
			_, page := c.getURL(base + "/console/mailboxes")
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no CSRF field:\n%s", page)
			}
			csrf = m[1]
		}
		req, _ := http.NewRequest("POST", unlock, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		res, err = c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("POST unlock with %.6s… csrf %q origin %q: %d, want %d", tc.token, tc.csrf, tc.origin, res.StatusCode, tc.want)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("Content-Security-Policy: %q", csp)
		}
	}
}

// getURL returns the status and body of GET url.
func (c *adminClient) getURL(u string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(u)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// lockOut locks a mailbox out, as failed logons would, in the directory
// the server runs on.
func (s *site) lockOut(email string) {
	s.t.Helper()
	ctx := context.Background()
	dir, err := sqlite.Open(ctx, filepath.Join(s.data, "directory.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer dir.Close()
	_, err = dir.Update(ctx, directory.Actor{User: "test", Command: "lock out"}, func(snap *directory.Snapshot) error {
		m, err := snap.Mailbox(email)
		if err == nil {
			m.LockedOut, m.LogonFailures = true, 5
		}
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/openum/openum/internal/peertest"
)

// adminClient talks to openum serve's admin API over HTTPS, trusting only
// the server's exported certificate.
type adminClient struct {
	t    *testing.T
	base string
	http *http.Client
	seen strings.Builder // every response body, for the secrets check
}

func (s *site) adminClient(port int) *adminClient {
	pem, err := os.ReadFile(s.path("um.crt"))
	if err != nil {
		s.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return &adminClient{t: s.t, base: fmt.Sprintf("https://127.0.0.1:%d", port), http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
	}}
}

// get returns the status and body of GET path with token (none when "").
func (c *adminClient) get(path, token string) (int, string) {
	c.t.Helper()
	return c.send("GET", path, token, "")
}

// newToken makes an admin token of role and returns it.
func (s *site) newToken(name, role string) string {
	s.t.Helper()
	tok, _, _ := strings.Cut(s.openum("admin", "token", "new", name, "--role", role), "\n")
	if !strings.HasPrefix(tok, "oum_") {
		s.t.Fatalf("admin token new printed %q", tok)
	}
	return tok
}

// The admin API end to end, against a running openum serve: tokens of each
// role, health, profiling, and a scrape, by curl and by Prometheus's own
// parser, that shows a call while it is up; no token or key leaks.
func TestAdminAPIOverHTTPS(t *testing.T) {
	s := newSite(t)
	s.unsecuredMailbox()
	readonly, operator, adminTok := s.newToken("prometheus", "readonly"), s.newToken("ops", "operator"), s.newToken("root", "admin")
	if list := s.openum("admin", "token", "list"); !strings.Contains(list, "prometheus") || strings.Contains(list, readonly) {
		t.Errorf("admin token list:\n%s", list)
	}
	port := peertest.FreePort(t)
	tcpPort, _ := s.serve("--admin-listen", fmt.Sprintf("127.0.0.1:%d", port))
	c := s.adminClient(port)
	waitFor(t, func() bool { code, _ := c.get("/healthz", ""); return code == 200 })

	if code, body := c.get("/readyz", ""); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	wrong := "oum_" + strings.Repeat("A", 43)
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", 401},
		{"/metrics", wrong, 401},
		{"/metrics", "not-a-token", 401},
		{"/metrics", readonly, 200},
		{"/debug/pprof/", readonly, 403},
		{"/debug/pprof/", operator, 403},
		{"/debug/pprof/", adminTok, 200},
		{"/nothing", "", 401},
	} {
		if code, body := c.get(tc.path, tc.token); code != tc.want {
			t.Errorf("GET %s with %.8s…: %d, want %d (%s)", tc.path, tc.token, code, tc.want, body)
		} else if code == 401 && strings.TrimSpace(body) != "unauthorized" {
			t.Errorf("a 401 says more than it should: %q", body)
		}
	}
	if refused := s.eventsWithID(9600); len(refused) != 4 || refused[0].Level != "Warning" || refused[1].Attrs["Reason"] != "unknown" {
		t.Errorf("9600 events: %+v", refused)
	}
	if got := s.eventsWithID(9601); len(got) != 1 {
		t.Errorf("9601 events: %+v", got)
	}

	// A call up while Prometheus scrapes: curl, with the token from a file
	// and the server's certificate as CA, as a scrape config has them.
	if err := os.WriteFile(s.path("token"), []byte(readonly), 0o600); err != nil {
		t.Fatal(err)
	}
	s.sh("sox -n -r 8000 -c 1 -b 16 sil.wav trim 0 10")
	done := make(chan struct{})
	go func() { defer close(done); s.unsecuredCall(tcpPort, s.path("sil.wav"), 8) }()
	want := `openum_calls_in_progress{dialplan="OPEN",mode="Unsecured"} 1`
	var scraped string
	waitFor(t, func() bool {
		out, _ := exec.Command("curl", "-sS", "--fail", "--cacert", s.path("um.crt"),
			"-H", "Authorization: Bearer "+readonly, fmt.Sprintf("https://127.0.0.1:%d/metrics", port)).CombinedOutput()
		scraped = string(out)
		return strings.Contains(scraped, want)
	})
	// The live API lists the same call, with what only a token holder sees.
	if code, body := c.get("/api/v1/calls", readonly); code != 200 || !strings.Contains(body, `"Total":1`) || !strings.Contains(body, `"PlacedBy":"gateway `) {
		t.Errorf("GET /api/v1/calls during the call: %d %s", code, body)
	}
	<-done
	if !strings.Contains(scraped, want) {
		t.Fatalf("no call in progress in /metrics during the call:\n%s", scraped)
	}

	_, body := c.get("/metrics", readonly)
	// Legacy validation: the names every Prometheus version accepts.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus's parser refuses /metrics: %v", err)
	}
	counter := func(name, label, value string) float64 {
		f := families[name]
		if f == nil {
			return -1
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if label == "" || (l.GetName() == label && l.GetValue() == value) {
					return m.GetCounter().GetValue()
				}
			}
			if label == "" && len(m.Label) == 0 {
				return m.GetCounter().GetValue()
			}
		}
		return 0
	}
	if got := counter("openum_call_setups_total", "outcome", "answered"); got != 1 {
		t.Errorf("openum_call_setups_total{outcome=answered} = %v, want 1", got)
	}
	if h := families["openum_call_setup_duration_seconds"]; h == nil || h.Metric[0].GetHistogram().GetSampleCount() != 1 {
		t.Errorf("openum_call_setup_duration_seconds: %v", h)
	}
	if got := counter("openum_admin_auth_failures_total", "reason", "unknown"); got < 1 {
		t.Errorf("openum_admin_auth_failures_total{reason=unknown} = %v", got)
	}
	for _, name := range []string{"openum_build_info", "openum_certificate_expiry_timestamp_seconds",
		"openum_delivery_queue_messages", "openum_rtp_packets_total", "openum_rtp_packets_lost_total", "openum_events_total",
		"go_gc_heap_live_bytes", "go_memstats_heap_inuse_bytes"} {
		if families[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	for name, f := range families {
		if !model.LegacyValidation.IsValidMetricName(name) || (f.GetType().String() == "COUNTER" && !strings.HasSuffix(name, "_total")) {
			t.Errorf("metric %s breaks Prometheus naming", name)
		}
	}

	// No token, and no private key, in any log, audit record or response.
	logs, _ := os.ReadFile(s.path("data/events.log"))
	audit := s.openum("audit")
	for _, where := range []struct{ name, text string }{{"events.log", string(logs)}, {"audit", audit}, {"responses", c.seen.String() + scraped}} {
		for _, secret := range []string{readonly, operator, adminTok, wrong, "PRIVATE KEY"} {
			if strings.Contains(where.text, secret) {
				t.Errorf("%s holds %.12s…", where.name, secret)
			}
		}
	}
	if !strings.Contains(audit, "admintoken prometheus") {
		t.Errorf("the audit log does not name the new token:\n%s", audit)
	}
}

// Plain HTTP is refused off loopback, at start, in one line.
func TestAdminPlainHTTPRefusedOffLoopback(t *testing.T) {
	s := newSite(t)
	out, err := exec.Command(openumBin, "--data", s.data, "serve", "--listen", "127.0.0.1", "--sip-port", "-1", "--tls-port", "-1",
		"--admin-listen", "0.0.0.0:0", "--admin-plain-http").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "plain HTTP is allowed only on a loopback address") {
		t.Fatalf("serve with plain HTTP on 0.0.0.0: %v\n%s", err, out)
	}
}

// waitFor polls ok for up to 15 s.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return
		}
	}
}

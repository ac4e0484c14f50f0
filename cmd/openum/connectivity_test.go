package main

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// report is what openum test connectivity --json prints.
type report struct {
	Steps []struct {
		Step    string
		Success bool
		Detail  string
	}
	EntireOperationSuccess bool
}

// connectivity runs openum test connectivity and returns its report and
// exit status.
func (s *site) connectivity(args ...string) (report, int) {
	s.t.Helper()
	cmd := exec.Command(openumBin, append([]string{"--data", s.data, "test", "connectivity", "--json"}, args...)...)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		s.t.Fatalf("test connectivity %v: %v\n%s", args, err, out)
	}
	return r, code
}

func (r report) last() (string, string) {
	l := r.Steps[len(r.Steps)-1]
	return l.Step, l.Detail
}

// Test-UMConnectivity's local loop in each mode, and the failures an
// administrator meets, each named by its step and reason.
func TestConnectivity(t *testing.T) {
	s := newSite(t)
	s.openum("dialplan", "new", "OPEN", "--number-of-digits-in-extension", "4")
	s.openum("dialplan", "new", "SIPSEC", "--number-of-digits-in-extension", "4", "--voip-security", "sipsecured")
	s.openum("dialplan", "new", "SEC", "--number-of-digits-in-extension", "4", "--voip-security", "secured")
	// The local loop calls as the server itself, a trusted peer by its
	// record's name (SPEC PEER-5): no gateway is named like it. The pilots
	// of a gateway's hunt groups name the dial plans it calls.
	s.openum("gateway", "new", "GW1", "--address", "gw1.localhost")
	for plan, pilot := range map[string]string{"OPEN": "1001", "SIPSEC": "1002", "SEC": "1003"} {
		s.openum("huntgroup", "new", "HG-"+plan, "--gateway", "GW1", "--dialplan", plan, "--pilot-identifier", pilot)
	}
	s.openum("server", "set", "--name", "localhost", "--dialplans", "OPEN,SIPSEC,SEC")
	s.openum("cert", "new-self-signed", "--fqdn", "localhost", "--san", "127.0.0.1")
	tcpPort, tlsPort := s.serve()
	tcp, tls := "--remote-port="+itoa(tcpPort), "--remote-port="+itoa(tlsPort)

	for name, args := range map[string][]string{
		"Unsecured over TCP": {tcp, "--phone", "1001"},
		"SIPSecured":         {tls, "--secured", "--phone", "1002"},
		"Secured":            {tls, "--secured", "--media-secured", "--phone", "1003"},
	} {
		r, code := s.connectivity(args...)
		if code != 0 || !r.EntireOperationSuccess || len(r.Steps) < 6 {
			t.Errorf("%s: exit %d, report %+v", name, code, r)
		}
	}

	// A Secured dial plan without --media-secured: 488 at the INVITE.
	r, code := s.connectivity(tls, "--secured", "--phone", "1003")
	if step, detail := r.last(); code == 0 || step != "INVITE" || !strings.Contains(detail, "488") || !strings.Contains(detail, "--media-secured") {
		t.Errorf("Secured without --media-secured: exit %d, %s: %s", code, step, detail)
	}

	// An untrusted client certificate: refused at the TLS handshake.
	s.openum("cert", "new-self-signed", "--fqdn", "rogue.localhost")
	rogue := s.thumbprintNaming("rogue.localhost")
	r, code = s.connectivity(tls, "--secured", "--media-secured", "--phone", "1003", "--certificate-thumbprint", rogue)
	if step, detail := r.last(); code == 0 || step != "TLS handshake" || !strings.Contains(detail, "refused openum's client certificate") {
		t.Errorf("untrusted client certificate: exit %d, %s: %s", code, step, detail)
	}

	// A trusted certificate that names no gateway and no server: an unknown peer.
	s.gatewayPKI("stranger.localhost")
	s.openum("cert", "import", s.path("ca.crt"), "--trusted")
	s.openum("cert", "import", s.path("gw.pem"))
	time.Sleep(3 * time.Second) // the running server reads its store every two seconds
	stranger := s.thumbprintNaming("stranger.localhost")
	r, code = s.connectivity(tls, "--secured", "--media-secured", "--phone", "1003", "--certificate-thumbprint", stranger)
	if step, detail := r.last(); code == 0 || step != "TLS handshake" || !strings.Contains(detail, "unknown peer") {
		t.Errorf("unknown peer: exit %d, %s: %s", code, step, detail)
	}

	// The server in NoNewCalls, once it has reloaded: 503 already to the
	// OPTIONS, as the INVITE would get.
	s.openum("server", "set", "--status", "NoNewCalls")
	time.Sleep(3 * time.Second)
	r, code = s.connectivity(tls, "--secured", "--media-secured", "--phone", "1003")
	if step, detail := r.last(); code == 0 || step != "SIP OPTIONS" || !strings.Contains(detail, "503: it takes no new calls") {
		t.Errorf("NoNewCalls: exit %d, %s: %s", code, step, detail)
	}
}

// The quickstart's site passes the local loop of test connectivity as it
// is, Secured: the server's own certificate names its server record, a
// trusted peer (SPEC PEER-5). Over TCP its Secured dial plan refuses the
// call: 403 at the INVITE.
func TestConnectivityAfterQuickstart(t *testing.T) {
	s := newSite(t)
	s.openum("quickstart")
	tcpPort, tlsPort := s.serve()
	r, code := s.connectivity("--remote-port="+itoa(tlsPort), "--secured", "--media-secured")
	if code != 0 || !r.EntireOperationSuccess {
		t.Errorf("secured, media secured: exit %d, report %+v", code, r)
	}
	r, code = s.connectivity("--remote-port=" + itoa(tcpPort))
	if step, detail := r.last(); code == 0 || step != "INVITE" || !strings.Contains(detail, "403") {
		t.Errorf("over TCP: exit %d, %s: %s; want 403 at the INVITE", code, step, detail)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// thumbprintNaming returns the thumbprint of the personal certificate for name.
func (s *site) thumbprintNaming(name string) string {
	s.t.Helper()
	var list []struct {
		Thumbprint, Subject, Store string
	}
	if err := json.Unmarshal([]byte(s.openum("cert", "get", "--json")), &list); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range list {
		if c.Subject == "CN="+name && c.Store == "Personal" {
			return c.Thumbprint
		}
	}
	s.t.Fatalf("no personal certificate for %s in %+v", name, list)
	return ""
}

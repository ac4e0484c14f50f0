package sip

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// One gateway's key cannot pass for another gateway (SPEC PEER-2), with
// openssl's certificates and openssl s_client as the attacker:
//   - gateway A got a CA:TRUE, keyCertSign certificate from the trusted CA:
//     presented alone it is refused, and the certificate its key signed for
//     GW1, sent with it as an intermediate, is refused;
//   - gateway P's self-signed certificate, CA:TRUE as openssl makes it,
//     trusted with a plain import: P itself is admitted as GWP, and the
//     certificate its key signed for GW1 is refused.
//
// Each refusal is event 1113 with the Reason, and no SIP answer.
func TestOpensslGatewayCannotSignForAnother(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	gwp, err := os.ReadFile(p.path("gwp.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(gwp); block == nil {
		t.Fatal("gwp.crt is not PEM")
	} else if c, err := x509.ParseCertificate(block.Bytes); err != nil || !c.IsCA {
		t.Fatalf("openssl's self-signed certificate is not CA:TRUE any more (%v): this test needs one", err)
	}
	f := newFixture(t, Limits{BanAfter: 100}, trusting(p.caPEM(t)), trusting(gwp))
	f.update(func(s *directory.Snapshot) error {
		a, p := directory.NewIPGateway("GWA"), directory.NewIPGateway("GWP")
		a.Address, p.Address = "gwa.localhost", "gwp.localhost"
		return errors.Join(s.AddIPGateway(a), s.AddIPGateway(p))
	})

	admitted := f.sClient(p, "gwp")
	waitOutput(t, admitted, "SIP/2.0 200 OK", 10*time.Second)
	admitted.stop(syscall.SIGTERM)

	for _, c := range []struct {
		what, cert string
		chain      []string
		reason     string
	}{
		{"gateway A's CA:TRUE certificate", "gwa", nil, "is a CA (basicConstraints CA:TRUE)"},
		{"GW1's certificate signed by A's key", "forged-by-gwa", []string{"gwa"}, "names the host gwa.localhost"},
		{"GW1's certificate signed by P's key", "forged-by-gwp", nil, "pinned peer certificate"},
		{"GW1's certificate signed by P's key, P sent with it", "forged-by-gwp", []string{"gwp"}, "pinned peer certificate"},
	} {
		tl := f.sClient(p, c.cert, c.chain...)
		rc := tl.wait()
		if out := tl.out.String(); rc == -1 || strings.Contains(out, "SIP/2.0") || !strings.Contains(out, "alert bad certificate") {
			t.Errorf("%s: s_client exit %d, want the server to refuse the certificate without an answer:\n%s", c.what, rc, out)
		}
		r := f.event(events.GatewayTLSFailed, c.reason)
		if reason, _ := r.Attrs["Reason"].(string); !strings.Contains(reason, c.reason) {
			t.Errorf("%s: event 1113's Reason is %q, want it to say %q", c.what, reason, c.reason)
		}
	}
}

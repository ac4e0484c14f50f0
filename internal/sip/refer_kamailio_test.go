package sip

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// Transfer through a real PBX: sipp is the phone, Kamailio the PBX in
// front of openum (record-routing, so openum's REFER and the phone's
// NOTIFYs cross it), openum GW1 by Kamailio's address. Kamailio relays
// REFER and NOTIFY rather than acting on them: scripting its own REFER
// handling is beyond a test configuration, so the phone (sipp) is the
// transferee that answers the REFER and reports in NOTIFY sipfrag.

// startKamailioProxy starts testdata/kamailio/proxy.cfg on a free port,
// relaying new calls to upstream; it returns Kamailio and its address.
func startKamailioProxy(t *testing.T, upstream string) (*tool, string) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(peertest.FreePort(t)))
	return kamailio(t, "proxy.cfg", addr, "UPSTREAM", "sip:"+upstream+";transport=tcp"), addr
}

func TestTransferThroughKamailio(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		status   int // the TransferError's; 0 for a transfer done
	}{
		{"uac_refer_202.xml", 0},   // 202, NOTIFY 100, NOTIFY 200: done, openum hangs up
		{"uac_refer_603.xml", 603}, // the PBX's side refuses the REFER: the call goes on
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			done := make(transferring, 1)
			f := newFixture(t, Limits{}, withCalls(done))
			k, pbx := startKamailioProxy(t, f.srv.Addrs()["TCP"].String())
			run := sipp(t, tc.scenario, "127.0.0.1", pbx, 30*time.Second, "-m", "1")
			if run.rc != 0 || run.successful != 1 {
				t.Fatalf("%s\n--- kamailio:\n%s", run, k.out.String())
			}
			err := result(t, done)
			var te *TransferError
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("Transfer: %v; want done", err)
			case tc.status != 0 && (!errors.As(err, &te) || te.Status != tc.status):
				t.Fatalf("Transfer: %v; want a TransferError %d", err, tc.status)
			}
			log := k.out.String()
			for _, want := range []string{"PBX REFER from", "refer-to=<sip:10000@localhost:5060;transport=tcp>", "referred-by=<sip:alice@example.test>"} {
				if !strings.Contains(log, want) {
					t.Errorf("Kamailio did not log %q:\n%s", want, log)
				}
			}
			if tc.status == 0 && strings.Count(log, "PBX NOTIFY from") != 2 {
				t.Errorf("Kamailio relayed %d NOTIFYs; want 2:\n%s", strings.Count(log, "PBX NOTIFY from"), log)
			}
		})
	}
}

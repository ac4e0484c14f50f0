package sip

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// FuzzAdmitInvite feeds arbitrary bytes through sipgo's parser into the
// admission of an INVITE (SPEC SEC-3, PEER-1, PEER-4), against the
// fixture's configuration plus a default hunt group for GW1 on the Secured
// plan, from every kind of peer. The seeds (real INVITEs and the RFC 4475
// torture messages) run as a unit test; fuzz with
//
//	go test -run '^$' -fuzz FuzzAdmitInvite -fuzztime 30s ./internal/sip
func FuzzAdmitInvite(f *testing.F) {
	snap := &directory.Snapshot{}
	err := fixtureConfig(snap)
	if err == nil {
		err = snap.AddHuntGroup(directory.HuntGroup{Name: "HG4", UMIPGateway: "GW1", UMDialPlan: "SEC"})
	}
	if err != nil {
		f.Fatal(err)
	}
	v, err := newView(context.Background(), snap, "um.localhost", nil)
	if err != nil {
		f.Fatal(err)
	}
	peers := []Peer{
		{Gateway: "GW1", Transport: "TLS", Addr: netip.MustParseAddrPort("127.0.0.1:5061")},
		{Gateway: "GW1", Transport: "TCP", Addr: netip.MustParseAddrPort("127.0.0.1:5060")},
		{Gateway: "GW2", Transport: "TCP", Addr: netip.MustParseAddrPort("127.0.0.2:5060")},
		{Gateway: "GW2", Transport: "UDP", Addr: netip.MustParseAddrPort("127.0.0.2:5060")},
		{Gateway: "GONE", Transport: "TLS", Addr: netip.MustParseAddrPort("127.0.0.9:5061")}, // removed since it connected
	}
	for _, seed := range admissionSeeds(f) {
		f.Add(seed, uint8(0))
	}
	f.Add([]byte(invite("5002", "TLS", sdpOffer("127.0.0.1", true))), uint8(100)) // MaxCallsAllowed reached

	f.Fuzz(func(t *testing.T, data []byte, active uint8) {
		msg, err := sip.NewParser().ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		for _, p := range peers {
			adm, rej := v.admitInvite(p, req, int(active))
			if err := checkAdmission(v, p, int(active), adm, rej); err != nil {
				t.Fatalf("%s over %s: %v\n%s", p.Gateway, p.Transport, err, data)
			}
		}
	})
}

// checkAdmission holds the invariants of every admission verdict.
func checkAdmission(v *view, p Peer, active int, adm *admission, rej *Rejection) error {
	switch {
	case (adm == nil) == (rej == nil):
		return fmt.Errorf("admission %v and rejection %v: want exactly one", adm, rej)
	case rej != nil:
		switch rej.Status {
		case 403, 404, 488, 503:
		default:
			return fmt.Errorf("refused with %d", rej.Status)
		}
		if reason(rej.Status) == "" || rej.Cause == "" || rej.Event == 0 {
			return fmt.Errorf("refusal %+v lacks a reason phrase, a cause or an event", rej)
		}
		if rej.Status == 503 && rej.Event != events.CallRefusedOverload {
			return fmt.Errorf("503 logged as event %d", rej.Event)
		}
		return nil
	}
	dp := adm.DialPlan
	switch {
	case p.Gateway != "GW1" && p.Gateway != "GW2":
		return fmt.Errorf("gateway %s is not in the directory, yet admitted", p.Gateway)
	case adm.Gateway.Name != p.Gateway || adm.HuntGroup.UMIPGateway != p.Gateway:
		return fmt.Errorf("a call from %s admitted through gateway %s, hunt group %s of %s", p.Gateway, adm.Gateway.Name, adm.HuntGroup.Name, adm.HuntGroup.UMIPGateway)
	case adm.HuntGroup.UMDialPlan != dp.Name || !v.serves(dp.Name):
		return fmt.Errorf("hunt group %s leads to %s, admitted to %s", adm.HuntGroup.Name, adm.HuntGroup.UMDialPlan, dp.Name)
	case active >= v.server.MaxCallsAllowed:
		return fmt.Errorf("admitted with %d calls up, MaxCallsAllowed %d", active, v.server.MaxCallsAllowed)
	case dp.VoIPSecurity.SignalingSecured() && p.Transport != "TLS":
		return fmt.Errorf("a %s plan admitted a call over %s", dp.VoIPSecurity, p.Transport)
	}
	if adm.Offer == nil {
		return nil // a delayed offer: openum offers in the dial plan's mode (lateoffer.go)
	}
	if dp.VoIPSecurity == directory.Secured {
		if !adm.Offer.Secure {
			return fmt.Errorf("the Secured plan admitted a call without an SRTP offer: %+v", adm.Offer)
		}
		if c, ok := adm.Offer.Acceptable(); !ok || len(c.Key) == 0 {
			return fmt.Errorf("the Secured plan admitted an offer without an acceptable crypto: %+v", adm.Offer)
		}
	} else if adm.Offer.Secure {
		return fmt.Errorf("the %s plan admitted an SRTP-only offer", dp.VoIPSecurity)
	}
	if len(adm.Offer.Codecs) == 0 {
		return fmt.Errorf("admitted an offer without a codec: %+v", adm.Offer)
	}
	return nil
}

// admissionSeeds are real INVITEs: what the tests' gateways and sipp send,
// with and without SRTP, and the RFC 4475 torture messages.
func admissionSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, pilot := range []string{"5000", "5001", "5002", "5003", "9999"} {
		for _, secure := range []bool{false, true} {
			seeds = append(seeds, []byte(invite(pilot, "TLS", sdpOffer("127.0.0.1", secure))))
		}
		seeds = append(seeds, []byte(invite(pilot, "TCP", "")))
	}
	// A 32-bit tag suite, a key with a lifetime and an MKI, a GCM suite.
	for _, crypto := range []string{
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\n",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\n",
		"a=crypto:3 AEAD_AES_128_GCM inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9\n",
	} {
		offer := strings.Replace(sdpOffer("127.0.0.1", false), "RTP/AVP", "RTP/SAVP", 1) + crypto
		seeds = append(seeds, []byte(invite("5002", "TLS", offer)))
	}
	files, _ := filepath.Glob("testdata/rfc4475/*.dat")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// invite is an INVITE as a gateway sends it, CRLF-terminated.
func invite(pilot, transport, body string) string {
	ctype := ""
	if body != "" {
		ctype = "Content-Type: application/sdp\n"
	}
	body = strings.ReplaceAll(body, "\n", "\r\n")
	head := fmt.Sprintf("INVITE sip:%[1]s@um.localhost SIP/2.0\nVia: SIP/2.0/%[2]s 127.0.0.1:5099;branch=z9hG4bKfuzz%[1]s\n"+
		"From: <sip:gw@localhost>;tag=gw1\nTo: <sip:%[1]s@um.localhost>\nCall-ID: fuzz-%[1]s\nCSeq: 1 INVITE\n"+
		"Contact: <sip:gw@127.0.0.1:5099;transport=%[2]s>\nMax-Forwards: 70\n%[3]sContent-Length: %[4]d\n\n", pilot, transport, ctype, len(body))
	return strings.ReplaceAll(head, "\n", "\r\n") + body
}

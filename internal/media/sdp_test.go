package media

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

const savpOffer = "v=0\r\no=gw 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/SAVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n" +
	"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n" +
	"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"

func TestParseOffer(t *testing.T) {
	o, err := ParseRemote([]byte(savpOffer))
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != netip.MustParseAddrPort("192.0.2.7:40000") || !o.Secure || o.Event != 101 || o.Codecs[0] != PCMA || o.Direction != SendRecv {
		t.Fatalf("offer %+v", o)
	}
	// The line with an MKI is skipped, not half understood.
	if len(o.Crypto) != 2 || o.Crypto[0].Tag != 2 || o.Crypto[1].Tag != 3 {
		t.Fatalf("crypto lines %+v", o.Crypto)
	}
	if c, ok := o.Acceptable(); !ok || c.Suite != "AES_CM_128_HMAC_SHA1_80" {
		t.Fatalf("Acceptable = %v, %v; want the _80 suite first", c, ok)
	}
	for _, bad := range []string{"", "v=0\r\n", strings.Replace(savpOffer, "m=audio", "m=video", 1),
		strings.Replace(savpOffer, "c=IN IP4 192.0.2.7", "c=IN IP4 gw.example", 2)} {
		if _, err := ParseRemote([]byte(bad)); err == nil {
			t.Errorf("ParseRemote accepted %q", bad)
		}
	}
}

func TestAnswerIsFreshAndNeverLogsTheOfferKey(t *testing.T) {
	o, _ := ParseRemote([]byte(savpOffer))
	a1, err := NewLocalAnswer(o, netip.MustParseAddrPort("127.0.0.1:20000"), true)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := NewLocalAnswer(o, netip.MustParseAddrPort("127.0.0.1:20000"), true)
	if bytes.Equal(a1.Crypto.Key, a2.Crypto.Key) || bytes.Equal(a1.Crypto.Key, a1.RemoteCrypto.Key) {
		t.Fatal("answer keys are not fresh per call")
	}
	sdp := string(a1.Marshal())
	if !strings.Contains(sdp, "m=audio 20000 RTP/SAVP 8 101") || !strings.Contains(sdp, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:") ||
		strings.Contains(sdp, "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz") {
		t.Fatalf("answer:\n%s", sdp)
	}
	if _, err := NewLocalAnswer(&Remote{Codecs: []uint8{PCMU}}, netip.MustParseAddrPort("127.0.0.1:20000"), true); err == nil {
		t.Fatal("a secured answer to an offer without crypto")
	}
}

func TestReanswerHoldAndNoDowngrade(t *testing.T) {
	o, _ := ParseRemote([]byte(savpOffer))
	a, _ := NewLocalAnswer(o, netip.MustParseAddrPort("127.0.0.1:20000"), true)
	hold, _ := ParseRemote([]byte(strings.Replace(savpOffer, "c=IN IP4 192.0.2.7", "c=IN IP4 0.0.0.0", 1)))
	h, err := a.Reanswer(hold)
	if err != nil || h.Direction != RecvOnly || !bytes.Equal(h.Crypto.Key, a.Crypto.Key) || h.Version != a.Version+1 {
		t.Fatalf("hold: %+v, %v", h, err)
	}
	plain, _ := ParseRemote([]byte(strings.Replace(savpOffer, "RTP/SAVP", "RTP/AVP", 1)))
	if _, err := a.Reanswer(plain); err == nil {
		t.Fatal("a re-INVITE dropped SRTP from a secured call")
	}
}

// A telephone-event without a usable dynamic payload type is ignored, so an
// answer never names PCMU's payload type 0 as telephone-event.
func TestTelephoneEventNeedsADynamicListedType(t *testing.T) {
	for _, rtpmap := range []string{"a=rtpmap: telephone-event/8000", "a=rtpmap:0 telephone-event/8000", "a=rtpmap:102 telephone-event/8000", "a=rtpmap:300 telephone-event/8000"} {
		o, err := ParseRemote([]byte(strings.Replace(savpOffer, "a=rtpmap:101 telephone-event/8000", rtpmap, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if o.Event != -1 {
			t.Errorf("%s: Event = %d; want none", rtpmap, o.Event)
		}
	}
}

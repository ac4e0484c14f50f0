package media

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
)

// FuzzParseOffer feeds arbitrary bytes to ParseRemote, the first thing
// openum does with a caller's SDP (SPEC MEDIA-2, MEDIA-3). The seeds are
// offers real peers sent (sipp, baresip, linphone, the gateways of the SIP
// tests) and run as a unit test; fuzz with
//
//	go test -run '^$' -fuzz FuzzParseOffer -fuzztime 30s ./internal/media
func FuzzParseOffer(f *testing.F) {
	for _, seed := range offerSeeds {
		f.Add([]byte(seed))
	}
	local := netip.MustParseAddrPort("127.0.0.1:20000")
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := ParseRemote(body)
		if (o == nil) == (err == nil) {
			t.Fatalf("offer %v and error %v: want exactly one", o, err)
		}
		if err != nil {
			return
		}
		checkOffer(t, o)
		// Whatever openum accepts, it can answer, and its answer reads back
		// as the same stream.
		_, acceptable := o.Acceptable()
		a, err := NewLocalAnswer(o, local, o.Secure)
		if o.Secure && !acceptable {
			if err == nil {
				t.Fatal("an SRTP answer to an offer without an acceptable crypto")
			}
			return
		}
		if err != nil {
			t.Fatalf("NewLocalAnswer: %v", err)
		}
		sdp := a.Marshal()
		back, err := ParseRemote(sdp)
		if err != nil {
			t.Fatalf("openum's own answer does not parse: %v\n%s", err, sdp)
		}
		checkOffer(t, back)
		switch {
		case !slices.Equal(back.Codecs, []uint8{a.Codec}) || !slices.Contains(o.Codecs, a.Codec):
			t.Fatalf("answered codec %d of %v; the answer reads back %v", a.Codec, o.Codecs, back.Codecs)
		case back.Secure != o.Secure || (a.Crypto != nil) != o.Secure:
			t.Fatalf("offer secure %v, answer secure %v (crypto %v)", o.Secure, back.Secure, a.Crypto != nil)
		case back.Event != a.Event || a.Event != o.Event:
			t.Fatalf("telephone-event: offered %d, answered %d, reads back %d", o.Event, a.Event, back.Event)
		case back.Addr != local:
			t.Fatalf("answer address %v, want %v", back.Addr, local)
		}
		if a.Crypto != nil {
			if len(back.Crypto) != 1 || !bytes.Equal(back.Crypto[0].Key, a.Crypto.Key) || bytes.Equal(a.Crypto.Key, a.RemoteCrypto.Key) {
				t.Fatalf("the answer's key must be openum's own, fresh, and read back: %+v", back.Crypto)
			}
		}
	})
}

// checkOffer holds what openum relies on in a parsed offer.
func checkOffer(t *testing.T, o *Remote) {
	t.Helper()
	if len(o.Codecs) == 0 || !o.Addr.IsValid() {
		t.Fatalf("offer without codec or address: %+v", o)
	}
	for _, c := range o.Codecs {
		if c != PCMU && c != PCMA {
			t.Fatalf("codec %d is not G.711", c)
		}
	}
	if o.Event != -1 && (o.Event < 0 || o.Event > 127 || o.Event == PCMU || o.Event == PCMA) {
		t.Fatalf("telephone-event payload type %d", o.Event)
	}
	for _, c := range o.Crypto {
		if n, ok := keyLen(c.Suite); !ok || len(c.Key) != n || c.Tag < 0 {
			t.Fatalf("crypto %s tag %d with a %d-byte key", c.Suite, c.Tag, len(c.Key))
		}
	}
	switch o.Direction {
	case SendRecv, SendOnly, RecvOnly, Inactive:
	default:
		t.Fatalf("direction %q", o.Direction)
	}
}

// offerSeeds are offers as real peers send them: sipp, baresip, a trunk.
var offerSeeds = []string{
	// sipp's uac scenario
	"v=0\r\no=gw 53655765 2353687637 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
	// baresip with mediaenc=srtp-mand
	"v=0\r\no=- 1195370428 2941547546 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 20064 RTP/SAVP 0 8 101\r\nb=AS:64\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp-rsize\r\na=sendrecv\r\na=label:1\r\n" +
		"a=ssrc:1447298227 cname:sip:gw@127.0.0.1\r\na=rtcp-mux\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:8Pmvq0Fu9W66T6KoIJpCSSsC8y/ElAtFi6fuLiIb\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:2xKOMbdGiu6jVdMl5VkOxTW7OuzpDcMkgyBL9egg\r\n" +
		"a=ptime:20\r\n",
	// linphone: several suites, one with a lifetime and an MKI
	"v=0\r\no=bob 2847 3718 IN IP4 127.0.0.1\r\ns=Talk\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 7078 RTP/SAVP 96 97 98 0 8 18 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:97 speex/16000\r\n" +
		"a=rtpmap:98 speex/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|1:1\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n" +
		"a=crypto:3 AEAD_AES_128_GCM inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9\r\n",
	// a gateway's hold: sendonly, and the RFC 2543 way, c=0.0.0.0
	"v=0\r\no=gw 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/SAVP 0 101\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\r\n",
	"v=0\r\no=gw 1 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\n",
	// IPv6, video first, a rejected stream
	"v=0\r\no=gw 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\n" +
		"m=audio 49170 RTP/AVP 8 0\r\nc=IN IP6 ::1\r\na=inactive\r\n",
	// RFC 4475's sdp01 body: audio and video
	"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.3\r\nt=0 0\r\n" +
		"m=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n",
}

package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// request parses an INVITE to sip:<ruser>@um.localhost with the extra
// header lines, as sipgo parses it off the wire.
func request(t testing.TB, ruser, from string, extra ...string) *sip.Request {
	t.Helper()
	msg := "INVITE sip:" + ruser + "@um.localhost SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKh1\r\nFrom: " + from + "\r\nTo: <sip:" + ruser + "@um.localhost>\r\n" +
		"Call-ID: h1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
	for _, h := range extra {
		msg += h + "\r\n"
	}
	m, err := sip.NewParser().ParseSIP([]byte(msg + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	return m.(*sip.Request)
}

func TestCallerOf(t *testing.T) {
	const from = `<sip:5550000@gw.example>;tag=1`
	for _, tc := range []struct {
		desc, from, header   string
		wantNumber, wantName string
	}{
		{"From only", from, "", "5550000", ""},
		{"From with a quoted name", `"Bob Jones" <sip:5551234@gw.example>;tag=1`, "", "5551234", "Bob Jones"},
		{"From with a token name", `Bob <sip:5551234@gw.example>;tag=1`, "", "5551234", "Bob"},
		{"From with quoted pairs", `"Bob \"B\" Jones" <sip:5551234@gw.example>;tag=1`, "", "5551234", `Bob "B" Jones`},
		{"From as a tel URI", `<tel:+15551234>;tag=1`, "", "+15551234", ""},
		{"PAI, bare", from, "P-Asserted-Identity: <sip:+15551234@gw.example;user=phone>", "+15551234", ""},
		{"PAI with a display name", from, `P-Asserted-Identity: "Alice Smith" <sip:+15551234@gw.example;user=phone>`, "+15551234", "Alice Smith"},
		{"PAI with a token name", from, `P-Asserted-Identity: Alice <sip:2000@pbx>`, "2000", "Alice"},
		{"PAI tel URI", from, `P-Asserted-Identity: <tel:+15551234;phone-context=example.com>`, "+15551234", ""},
		{"PAI sip then tel: the first", from, `P-Asserted-Identity: "Alice, A." <sip:2000@pbx>, <tel:+15552000>`, "2000", "Alice, A."},
		{"PAI's name before From's", `"Spoofed" <sip:5550000@gw.example>;tag=1`, `P-Asserted-Identity: "Alice" <sip:2000@pbx>`, "2000", "Alice"},
		{"PAI unparsable: From", `"Bob" <sip:5551234@gw.example>;tag=1`, `P-Asserted-Identity: "unterminated <sip:2000@pbx>`, "5551234", "Bob"},
	} {
		var extra []string
		if tc.header != "" {
			extra = append(extra, tc.header)
		}
		number, name := callerOf(request(t, "5000", tc.from, extra...))
		if number != tc.wantNumber || name != tc.wantName {
			t.Errorf("%s: caller %q %q; want %q %q", tc.desc, number, name, tc.wantNumber, tc.wantName)
		}
	}
}

func TestTargetOf(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		headers []string
		want    string
	}{
		{"the request URI", nil, "5000"},
		{"Diversion", []string{`Diversion: <sip:12345@pbx>;reason=unconditional;counter=1`}, "12345"},
		{"Diversion with a display name", []string{`Diversion: "Alice" <sip:12345@pbx>;reason=no-answer`}, "12345"},
		{"Diversion tel URI", []string{`Diversion: <tel:+15553456;phone-context=x>;reason=busy`}, "+15553456"},
		{"Diversion, two entries: the first", []string{`Diversion: <sip:12345@pbx>;reason=no-answer, <sip:22222@pbx>;reason=unconditional`}, "12345"},
		{"Diversion, two fields: the first", []string{`Diversion: <sip:12345@pbx>`, `Diversion: <sip:22222@pbx>`}, "12345"},
		{"History-Info: the entry before openum's", []string{`History-Info: <sip:12345@pbx?Reason=SIP%3Bcause%3D302>;index=1, <sip:5000@um.localhost>;index=1.1`}, "12345"},
		{"History-Info in fields, with names", []string{`History-Info: "Alice" <sip:11111@pbx>;index=1`, `History-Info: "Alice, mobile" <sip:12345@pbx>;index=1.1`, `History-Info: <sip:5000@um.localhost>;index=1.1.1`}, "12345"},
		{"History-Info tel URI", []string{`History-Info: <tel:+15553456>;index=1, <sip:5000@um.localhost>;index=1.1`}, "+15553456"},
		{"Diversion before History-Info", []string{`History-Info: <sip:11111@pbx>;index=1`, `Diversion: <sip:12345@pbx>`}, "12345"},
		{"unparsable Diversion: History-Info", []string{`Diversion: <sip:12345@pbx`, `History-Info: <sip:11111@pbx>;index=1`}, "11111"},
	} {
		if got := targetOf(request(t, "5000", `<sip:5550000@gw.example>;tag=1`, tc.headers...)); got != tc.want {
			t.Errorf("%s: target %q; want %q", tc.desc, got, tc.want)
		}
	}
}

func TestSplitEntries(t *testing.T) {
	got := splitEntries(` "a, \"b\"" <sip:1@x;p=1,2>;q=1 ,, <tel:+1>`)
	want := []string{`"a, \"b\"" <sip:1@x;p=1,2>;q=1`, `<tel:+1>`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("entries %q; want %q", got, want)
	}
}

// FuzzCallerAndTarget feeds arbitrary identity and diversion header values
// through sipgo's parser and openum's reading of them.
func FuzzCallerAndTarget(f *testing.F) {
	f.Add(`"Alice" <sip:+15551234@gw;user=phone>`, `<sip:12345@pbx>;reason=no-answer`, `<sip:1@x?R=a>;index=1, <tel:+1>`)
	f.Add(`"a\"b", <tel:+1;x=y>`, `"`, `<<>>,,"\`)
	f.Fuzz(func(t *testing.T, pai, diversion, history string) {
		if strings.ContainsAny(pai+diversion+history, "\r\n") {
			return
		}
		msg := "INVITE sip:5000@um.localhost SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKf\r\n" +
			"From: <sip:1@gw>;tag=1\r\nTo: <sip:5000@um.localhost>\r\nCall-ID: f\r\nCSeq: 1 INVITE\r\n" +
			"P-Asserted-Identity: " + pai + "\r\nDiversion: " + diversion + "\r\nHistory-Info: " + history + "\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.NewParser().ParseSIP([]byte(msg))
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		callerOf(req)
		targetOf(req)
		for _, v := range []string{pai, diversion, history} {
			for _, e := range splitEntries(v) {
				if !strings.Contains(v, e) {
					t.Fatalf("entry %q is not part of %q", e, v)
				}
			}
		}
	})
}

func TestPeerNamed(t *testing.T) {
	gw, sv := Peer{Gateway: "GW1"}, Peer{Server: "um2"}
	for _, tc := range []struct {
		p    Peer
		name string
		want bool
	}{
		{gw, gw.name(), true}, {gw, "server GW1", false}, {gw, "gateway GW", false}, {gw, "gateway GW11", false},
		{sv, sv.name(), true}, {sv, "gateway um2", false}, {sv, "server um", false},
	} {
		if got := tc.p.named(tc.name); got != tc.want {
			t.Errorf("%+v named %q: %v, want %v", tc.p, tc.name, got, tc.want)
		}
	}
}

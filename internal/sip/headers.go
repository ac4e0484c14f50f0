package sip

// The caller and target of a call, from the identity and diversion header
// fields. sipgo parses From itself; P-Asserted-Identity (RFC 3325),
// Diversion (RFC 5806) and History-Info (RFC 7044) reach openum as raw
// values, which are split into their entries and parsed with sipgo's
// address parser (RFC 3261 section 20.10).

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// address is one name-addr of a header field.
type address struct {
	name   string // the display name, unquoted
	uri    sip.Uri
	params sip.HeaderParams
}

// number is the telephone number or user an address names: the user part
// of a sip: or sips: URI, the number of a tel: URI (RFC 3966).
func (a address) number() string { return uriNumber(&a.uri) }

func uriNumber(u *sip.Uri) string {
	if strings.EqualFold(u.Scheme, "tel") {
		n, _, _ := strings.Cut(u.Raw(), ";")
		return strings.TrimSpace(n)
	}
	return u.User
}

// targetOf returns the number a call is for (SPEC UM-1): the diverting
// number of the first Diversion entry (RFC 5806), else the last
// History-Info entry before the one that reached openum (RFC 7044), else
// the request URI's user.
func targetOf(req *sip.Request) string {
	// The first Diversion entry is the last diversion, the one that counts.
	if d := addresses(req, "Diversion"); len(d) > 0 && d[0].number() != "" {
		return d[0].number()
	}
	entries := addresses(req, "History-Info")
	for i := len(entries) - 1; i >= 0; i-- {
		if n := entries[i].number(); n != "" && n != req.Recipient.User {
			return n
		}
	}
	return uriNumber(&req.Recipient)
}

// callerOf returns the calling number and name: the first
// P-Asserted-Identity from a trusted gateway, else From; the name is
// P-Asserted-Identity's display name, else From's.
func callerOf(req *sip.Request) (number, name string) {
	if ids := addresses(req, "P-Asserted-Identity"); len(ids) > 0 {
		number, name = ids[0].number(), ids[0].name
	}
	if from := req.From(); from != nil {
		if name == "" {
			name = unquote(from.DisplayName)
		}
		if number == "" {
			number = uriNumber(&from.Address)
		}
	}
	return number, name
}

// addresses parses every entry of the header fields called name, in order:
// several fields, and several comma-separated entries in one. An entry
// that does not parse is left out.
func addresses(req *sip.Request, name string) []address {
	var out []address
	for _, h := range namedFields(req, name) {
		for _, v := range splitEntries(h.Value()) {
			a := address{params: sip.NewParams()}
			display, err := sip.ParseAddressValue(v, &a.uri, &a.params)
			if err != nil {
				continue
			}
			a.name = unquote(display)
			out = append(out, a)
		}
	}
	return out
}

// namedFields returns the header fields of req called name, in any case,
// as sipgo's GetHeaders does, but without its allocations: GetHeaders
// lower-cases the name, and each field's name it compares that sipgo does
// not know by heart, on every call, found or not.
func namedFields(req *sip.Request, name string) []sip.Header {
	var out []sip.Header
	for _, h := range req.Headers() {
		if sameFieldName(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}

// sameFieldName compares header field names as sipgo does: ASCII letters
// in any case, nothing else folded.
func sameFieldName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// splitEntries splits a header value at the commas between its entries:
// not those inside a quoted display name or a <URI>.
func splitEntries(v string) []string {
	var out []string
	quoted, escaped, angle, start := false, false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	out = append(out, v[start:])
	entries := out[:0]
	for _, e := range out {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// unquote turns a display name as written (quotes, quoted pairs such as
// \") into the name.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

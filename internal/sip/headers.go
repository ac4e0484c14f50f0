package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// targetOf returns the number a call is for (SPEC UM-1): the diverting
// number of the first Diversion header (RFC 5806), else the last
// History-Info entry before the one that reached openum (RFC 7044), else
// the request URI's user.
func targetOf(req *sip.Request) string {
	if h := req.GetHeader("Diversion"); h != nil {
		if user := uriUser(firstEntry(h.Value())); user != "" {
			return user
		}
	}
	if h := req.GetHeader("History-Info"); h != nil {
		entries := strings.Split(h.Value(), ",")
		for i := len(entries) - 1; i >= 0; i-- {
			if user := uriUser(entries[i]); user != "" && user != req.Recipient.User {
				return user
			}
		}
	}
	return req.Recipient.User
}

// callerOf returns the calling number and name: P-Asserted-Identity from a
// trusted gateway, else From.
func callerOf(req *sip.Request) (number, name string) {
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		var addr sip.Uri
		if err := sip.ParseUri(strings.Trim(firstEntry(h.Value()), "<> "), &addr); err == nil && addr.User != "" {
			number = addr.User
		}
	}
	if from := req.From(); from != nil {
		name = strings.Trim(from.DisplayName, `"`)
		if number == "" {
			number = from.Address.User
		}
	}
	return number, name
}

// firstEntry returns the first comma-separated entry of a header value.
func firstEntry(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return first
}

// uriUser returns the user part of the URI inside <...> in a header entry.
func uriUser(entry string) string {
	start, end := strings.Index(entry, "<"), strings.Index(entry, ">")
	if start < 0 || end < start {
		return ""
	}
	raw, _, _ := strings.Cut(entry[start+1:end], "?") // History-Info carries headers in the URI
	var u sip.Uri
	if err := sip.ParseUri(raw, &u); err != nil {
		return ""
	}
	return u.User
}

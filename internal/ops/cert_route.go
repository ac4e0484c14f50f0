package ops

import (
	"net/url"
	"strings"
)

// CertPath is where the admin API serves the certificate store.
const CertPath = APIPrefix + "cert"

// certMethods are the HTTP methods of the certificate verbs. Export is a
// POST so that a password travels in the body, never in a URL.
var certMethods = map[Verb]string{List: "GET", Select: "GET", Get: "GET", NewSelfSigned: "POST", MakeRequest: "POST", Import: "POST", Export: "POST", Remove: "DELETE"}

// CertPattern returns the http.ServeMux pattern of a certificate verb,
// the certificate named by the wildcard {name}.
func CertPattern(v Verb) string {
	path := CertPath
	switch v {
	case List:
	case Get, Remove:
		path += "/{name}"
	case Export:
		path += "/{name}/" + string(v)
	default: // on the store: POST .../cert/import
		path += "/" + string(v)
	}
	return certMethods[v] + " " + path
}

// Route returns the method and path of r over the admin API, and its
// body's parameters: a GET's or a DELETE's go in the query instead.
func (r CertRequest) Route() (method, path string, body Params) {
	method, path, _ = strings.Cut(CertPattern(r.Verb), " ")
	path = strings.Replace(path, "{name}", url.PathEscape(r.Name), 1)
	if method == "POST" {
		return method, path, r.Params
	}
	if len(r.Params) > 0 {
		path += "?" + url.Values(r.Params).Encode()
	}
	return method, path, nil
}

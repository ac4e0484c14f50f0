package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// The admin API serves each operation at /api/v1/KIND[/NAME[/ACTION]],
// the verb given by the method: the server's routes and the remote
// command line's requests both come from Pattern, so that they cannot
// disagree.
const (
	APIPrefix = "/api/v1/"
	AuditPath = APIPrefix + "audit" // GET: the audit log (Audit)
)

// methods are the HTTP methods of the verbs.
var methods = map[Verb]string{List: "GET", Get: "GET", New: "POST", Set: "PATCH", Remove: "DELETE", Unlock: "POST", SetPIN: "POST", ResetPIN: "POST",
	Rules: "GET", RuleAdd: "POST", RuleRemove: "POST", RuleImport: "POST"}

// Pattern returns the http.ServeMux pattern of verb on kind, the object
// named by the wildcard {name}.
func Pattern(kind directory.Kind, v Verb) string {
	path := APIPrefix + string(kind)
	switch v {
	case List:
	case Get, New, Set, Remove:
		path += "/{name}"
	default: // an action on the object: POST .../NAME/unlock
		path += "/{name}/" + string(v)
	}
	return methods[v] + " " + path
}

// Route returns the method and path of r over the admin API; Force is a
// query (?force=1). A Set without a name (server set of the machine the
// API runs on) goes to the noun's path.
func (r Request) Route() (method, path string) {
	method, path, _ = strings.Cut(Pattern(r.Kind, r.Verb), " ")
	if r.Name == "" {
		path = strings.TrimSuffix(path, "/{name}")
	}
	path = strings.Replace(path, "{name}", url.PathEscape(r.Name), 1)
	if r.Force {
		path += "?force=1"
	}
	return method, path
}

// DecodeParams reads the body of a new or set over the admin API: a JSON
// object of parameter names (the flags' names) to a value or a list of
// values, each a string, a number or true/false, as "--name value" would
// be given once or repeated. An empty list stands for one empty value,
// which clears a list. An empty body is no parameters.
func DecodeParams(body []byte) (Params, error) {
	p := Params{}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, refused(fmt.Errorf("ops: the body must be a JSON object of parameters: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, refused(errors.New("ops: the body must be one JSON object, and nothing after it"))
	}
	for name, v := range raw {
		list := []json.RawMessage{v}
		if bytes.HasPrefix(v, []byte("[")) { // a json.RawMessage from Decode has no leading space
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, &ParamError{Param: name, Err: err}
			}
		}
		if len(list) == 0 {
			p[name] = []string{""}
			continue
		}
		for _, item := range list {
			s, err := scalar(item)
			if err != nil {
				return nil, &ParamError{Param: name, Err: err}
			}
			p[name] = append(p[name], s)
		}
	}
	return p, nil
}

// scalar returns a JSON string, number or boolean as the command line
// would write it.
func scalar(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return fmt.Sprint(v), nil
	}
	return "", errors.New("must be a string, a number, true or false, or a list of them")
}

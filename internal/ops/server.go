package ops

import (
	"fmt"

	"github.com/openum/openum/internal/directory"
)

// Servers are the servers' records. The first is made by server set, as
// this machine's; until then get shows this machine's defaults.
var Servers Noun = &serverNoun{noun[directory.Server]{
	kind:    directory.KindServer,
	short:   "This server's record: FQDN, dial plans, status, capacity, ports",
	verbs:   []Verb{List, Get, Set},
	get:     (*directory.Snapshot).Server,
	columns: []string{"Name", "DialPlans", "Status", "MaxCallsAllowed", "SipTcpListeningPort", "SipTlsListeningPort"},
	fields:  serverFields,
	extra:   map[Verb][]Param{Set: {{Name: "name", Type: "string", Usage: "the server's FQDN"}}},
}}

// serverNoun shows defaults before the first record and renames a record,
// checks a pinned certificate, on set.
type serverNoun struct{ noun[directory.Server] }

// records are the server records, or this machine's defaults when there
// are none yet.
func records(s *directory.Snapshot) []directory.Server {
	if len(s.Servers) == 0 {
		return []directory.Server{directory.NewServer(directory.HostName())}
	}
	return s.Servers
}

func (n *serverNoun) listAll(s *directory.Snapshot) any { return records(s) }

func (n *serverNoun) getOne(s *directory.Snapshot, name string) (any, error) {
	return (&directory.Snapshot{Servers: records(s)}).Server(name)
}

func (n *serverNoun) doSet(env Env, s *directory.Snapshot, name string, p Params) (string, error) {
	sv, err := setTarget(s, name)
	if err != nil {
		return "", err
	}
	pinned := sv.CertificateThumbprint
	if err := apply(n.fields, sv, p); err != nil {
		return "", err
	}
	if v := p["name"]; len(v) > 0 && last(v) != "" && !directory.SameName(last(v), sv.Name) {
		if _, err := s.Server(last(v)); err == nil {
			return "", &directory.ExistsError{Kind: directory.KindServer, Name: last(v)}
		}
		sv.Name = last(v)
	}
	if sv.CertificateThumbprint != pinned && sv.CertificateThumbprint != "" {
		if env.UsableThumbprint == nil {
			return "", &ParamError{Param: "certificate-thumbprint", Err: errNoPin}
		}
		tp, err := env.UsableThumbprint(sv.CertificateThumbprint, sv.Name)
		if err != nil {
			return "", &ParamError{Param: "certificate-thumbprint", Err: err}
		}
		sv.CertificateThumbprint = tp
	}
	return sv.Name, nil
}

// setTarget returns the record server set changes: the one named, else
// this machine's (directory.Snapshot.LocalServer), made on the first run.
func setTarget(s *directory.Snapshot, name string) (*directory.Server, error) {
	if name != "" {
		return s.LocalServer(name)
	}
	sv, err := s.AddLocalServer("")
	if err != nil {
		return nil, fmt.Errorf("server set needs a NAME: %w", err)
	}
	return sv, nil
}

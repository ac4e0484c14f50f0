package directory

import (
	"encoding/json"
	"errors"
)

// StoredColumns returns the columns, besides its key, in which an engine
// stores obj, an object of a Snapshot, and their values: the object as
// JSON in config, the names it refers to in columns of their own (each
// spelled by ref, so that an engine keying names in lower case can), and
// the secrets kept out of the JSON (a mailbox's PIN, a token's hash), and
// for a mailbox the shape of its JSON (MailboxShape).
func StoredColumns(obj any, ref func(name string) string) ([]string, []any, error) {
	config := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch o := obj.(type) {
	case *DialPlan, *IPGateway, *Server:
		return []string{"config"}, []any{config(o)}, nil
	case *HuntGroup:
		return []string{"ip_gateway", "dial_plan", "config"}, []any{ref(o.UMIPGateway), ref(o.UMDialPlan), config(o)}, nil
	case *MailboxPolicy:
		return []string{"dial_plan", "config"}, []any{ref(o.UMDialPlan), config(o)}, nil
	case *Mailbox:
		return []string{"dial_plan", "policy", "config", "pin", "shape"},
			[]any{ref(o.UMDialPlan), ref(o.UMMailboxPolicy), config(o), config(o.PIN), MailboxShape}, nil
	case *AdminToken:
		return []string{"config", "hash"}, []any{config(o), o.Hash}, nil
	}
	return nil, nil, errors.New("no such object")
}

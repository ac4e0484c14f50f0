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

// RowReader is an engine's reading of the table of kind for LoadObjects:
// it hands row, in key order, the config column of each object it reads
// and, when secret is set, the column named so (a mailbox's pin, a token's
// hash), and returns row's first error.
type RowReader func(kind Kind, secret string, row func(config, secretValue []byte) error) error

// LoadObjects makes a Snapshot of the objects that read reads, each
// decoded from its config with its secret put back: what StoredColumns
// wrote, read again.
func LoadObjects(read RowReader) (*Snapshot, error) {
	var snap Snapshot
	var mailboxes []Mailbox
	err := errors.Join(
		loadKind(read, KindDialPlan, "", &snap.DialPlans, nil),
		loadKind(read, KindIPGateway, "", &snap.IPGateways, nil),
		loadKind(read, KindHuntGroup, "", &snap.HuntGroups, nil),
		loadKind(read, KindServer, "", &snap.Servers, nil),
		loadKind(read, KindMailboxPolicy, "", &snap.MailboxPolicies, nil),
		loadKind(read, KindMailbox, "pin", &mailboxes,
			func(m *Mailbox, pin []byte) error { return json.Unmarshal(pin, &m.PIN) }),
		loadKind(read, KindAdminToken, "hash", &snap.AdminTokens,
			func(t *AdminToken, hash []byte) error { t.Hash = string(hash); return nil }),
	)
	if err != nil {
		return nil, err
	}
	snap.Mailboxes = MailboxesOf(mailboxes...)
	return &snap, nil
}

// loadKind appends to into the objects of kind that read reads; set, when
// secret is set, puts that column's value into each.
func loadKind[T any](read RowReader, kind Kind, secret string, into *[]T, set func(*T, []byte) error) error {
	return read(kind, secret, func(config, value []byte) error {
		var v T
		err := json.Unmarshal(config, &v)
		if err == nil && set != nil {
			err = set(&v, value)
		}
		if err == nil {
			*into = append(*into, v)
		}
		return err
	})
}

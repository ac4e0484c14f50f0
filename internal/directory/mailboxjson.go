package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"
)

// StoredMailbox is one mailbox as an engine keeps it, without its PIN:
// its address, its config JSON and the shape that JSON was written in.
type StoredMailbox struct {
	Email  string
	Config []byte
	Shape  string
}

// MailboxReader is an engine that reads its mailboxes alone, for a
// listing that needs nothing else of the directory: not the other kinds,
// not the PIN hashes, not the index a Snapshot builds.
type MailboxReader interface {
	// StoredMailboxes returns every mailbox, in one consistent read.
	StoredMailboxes(ctx context.Context) ([]StoredMailbox, error)
}

// MailboxShape stamps the config JSON of a mailbox this openum writes: a
// hash of the keys json.Marshal writes for a Mailbox and of their types.
// A row stamped with it holds exactly what json.Marshal writes of the
// mailbox it decodes to, so that MailboxesJSON hands it on as stored; a
// row an earlier openum wrote (a key fewer, another type, no stamp) is
// decoded and encoded again. A change to how a field's type writes itself
// must change mailboxShapeRevision.
var MailboxShape = mailboxShape()

// mailboxShapeRevision is counted up when a Mailbox field's JSON form
// changes without its type's name changing.
const mailboxShapeRevision = 1

func mailboxShape() string {
	var keys []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Mailbox]()) {
		if f.IsExported() && f.Tag.Get("json") != "-" {
			keys = append(keys, f.Name+" "+f.Tag.Get("json")+" "+f.Type.String())
		}
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %s", mailboxShapeRevision, strings.Join(keys, ","))
	return fmt.Sprintf("%016x", h.Sum64())
}

// MailboxesJSON returns every mailbox of d as json.Marshal writes it
// (the PIN, as ever, left out), in the order of a Snapshot's MailboxList.
// It reads only the mailboxes when d is a MailboxReader, else a Snapshot.
func MailboxesJSON(ctx context.Context, d Directory) ([]json.RawMessage, error) {
	r, ok := d.(MailboxReader)
	if !ok {
		s, err := d.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]json.RawMessage, 0, s.Mailboxes.Len())
		for _, m := range s.Mailboxes.All() {
			b, err := json.Marshal(&m)
			if err != nil {
				return nil, fmt.Errorf("directory: mailbox %s: %w", m.EmailAddress, err)
			}
			out = append(out, b)
		}
		return out, nil
	}
	rows, err := r.StoredMailboxes(ctx)
	if err != nil {
		return nil, err
	}
	// An engine's collation may order other than SameName does (SQLite's
	// NOCASE folds ASCII only): the list's order is the Snapshot's.
	order := func(a, b StoredMailbox) int { return compareFold(a.Email, b.Email) }
	if !slices.IsSortedFunc(rows, order) {
		slices.SortStableFunc(rows, order)
	}
	out := make([]json.RawMessage, len(rows))
	for i, row := range rows {
		if row.Shape == MailboxShape {
			out[i] = row.Config
			continue
		}
		var m Mailbox
		if err := json.Unmarshal(row.Config, &m); err != nil {
			return nil, fmt.Errorf("directory: mailbox %s: %w", row.Email, err)
		}
		if out[i], err = json.Marshal(&m); err != nil {
			return nil, fmt.Errorf("directory: mailbox %s: %w", row.Email, err)
		}
	}
	return out, nil
}

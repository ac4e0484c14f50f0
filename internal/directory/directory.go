// Package directory holds openum's configuration objects (SPEC §1): dial
// plans, IP gateways, hunt groups, servers, mailbox policies and mailboxes,
// the rules that keep them consistent (DIR-1, DIR-2) and the audit log of
// every change (DIR-4).
//
// Storage engines implement Directory; they all share Snapshot, Validate and
// Diff, so a rule is written once whatever holds the data.
package directory

import (
	"context"
	"encoding/json"
	"reflect"
	"time"
)

// Directory is where openum keeps its configuration. Implementations are safe
// for concurrent use, also by several processes sharing the same store.
type Directory interface {
	// Snapshot returns the configuration as it is now.
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Update runs fn on a copy of the current configuration inside one write
	// transaction. When fn fails or its result breaks a rule (see Validate)
	// nothing is written; otherwise the differences are written together
	// with one audit record naming actor. Update returns those differences.
	Update(ctx context.Context, actor Actor, fn func(*Snapshot) error) ([]Change, error)
	// Audit returns the audit log, oldest first.
	Audit(ctx context.Context) ([]AuditRecord, error)
	// Version says whether the configuration changed: it returns a number
	// that differs from the one returned before whenever an Update by this
	// process or another wrote something since. It is cheap, so that a
	// watcher can ask often and read a Snapshot only on a change.
	Version(ctx context.Context) (uint64, error)
	// Close releases the store.
	Close() error
}

// Actor is who made a change and how.
type Actor struct {
	User    string // the operating system user
	Command string // the command line, with secrets already masked
}

// AuditRecord is one change to the directory (SPEC DIR-4).
type AuditRecord struct {
	Time    time.Time
	User    string
	Command string
	Changes []Change
}

// Change is what happened to one object.
type Change struct {
	Object Ref
	Action Action
	Fields []FieldChange `json:",omitempty"`
}

// Action says whether an object was added, changed or removed.
type Action string

// The actions a Change records.
const (
	Added   Action = "added"
	Changed Action = "changed"
	Removed Action = "removed"
)

// FieldChange is one field's old and new value. A secret field (the PIN)
// records that it changed, never a value.
type FieldChange struct {
	Field string
	Old   json.RawMessage `json:",omitempty"`
	New   json.RawMessage `json:",omitempty"`
}

// Prepare runs fn on a copy of current, then checks the result. It is the
// part of Update that every storage engine shares: the engine writes the
// returned snapshot's objects named by the changes, or nothing on error.
//
// Validation looks up what a change could clash with in an index of
// current, made on the first Prepare from it; the snapshot returned carries
// the index of itself, so that an engine that keeps it for the next Update
// checks that one by look-up too.
func Prepare(current *Snapshot, fn func(*Snapshot) error) (*Snapshot, []Change, error) {
	base := current.extensions()
	next := current.Clone()
	if err := fn(next); err != nil {
		return nil, nil, err
	}
	next.spellReferences(current)
	changes := Diff(current, next)
	refs := make([]Ref, len(changes))
	for i, c := range changes {
		refs[i] = c.Object
	}
	if err := Validate(next, refs); err != nil {
		return nil, nil, err
	}
	next.exts = base.moved(current, next, changes)
	return next, changes, nil
}

// Diff lists the objects that differ between old and new, kind by kind.
func Diff(old, new *Snapshot) []Change {
	var out []Change
	out = diffKind(out, KindDialPlan, old.DialPlans, new.DialPlans)
	out = diffKind(out, KindIPGateway, old.IPGateways, new.IPGateways)
	out = diffKind(out, KindHuntGroup, old.HuntGroups, new.HuntGroups)
	out = diffKind(out, KindServer, old.Servers, new.Servers)
	out = diffKind(out, KindMailboxPolicy, old.MailboxPolicies, new.MailboxPolicies)
	out = diffMailboxes(out, &old.Mailboxes, &new.Mailboxes)
	return diffKind(out, KindAdminToken, old.AdminTokens, new.AdminTokens)
}

// diffKind pairs the objects of old and new by name. Most objects are
// where they were, so the common head and tail of the two lists pair by
// position, and only what lies between is looked up by folded name: a
// change to a large directory costs one pass over each list, and an object
// unchanged is told so without encoding it (same).
func diffKind[T object[T]](out []Change, kind Kind, old, new []T) []Change {
	head := 0
	for head < min(len(old), len(new)) && old[head].ident() == new[head].ident() {
		head++
	}
	tail := 0
	for tail < min(len(old), len(new))-head && old[len(old)-1-tail].ident() == new[len(new)-1-tail].ident() {
		tail++
	}
	oldMid, newMid := old[head:len(old)-tail], new[head:len(new)-tail]
	oldByName, newByName := byName(oldMid), byName(newMid)
	for _, o := range oldMid {
		if _, ok := newByName[foldName(o.ident())]; !ok {
			out = append(out, Change{Object: Ref{Kind: kind, Name: o.ident()}, Action: Removed})
		}
	}
	changed := func(o, n *T) {
		if o == nil {
			out = append(out, Change{Object: Ref{Kind: kind, Name: (*n).ident()}, Action: Added, Fields: fieldChanges(nil, n)})
		} else if !(*o).same(*n) {
			if fields := fieldChanges(o, n); len(fields) > 0 {
				out = append(out, Change{Object: Ref{Kind: kind, Name: (*n).ident()}, Action: Changed, Fields: fields})
			}
		}
	}
	for i := range head {
		changed(&old[i], &new[i])
	}
	for i := range newMid {
		changed(oldByName[foldName(newMid[i].ident())], &newMid[i])
	}
	for i := len(new) - tail; i < len(new); i++ {
		changed(&old[i-len(new)+len(old)], &new[i])
	}
	return out
}

// fieldChanges compares two objects field by field, in declaration order.
// The JSON form is the one printed by get --json, so the audit log speaks the
// same names. old is nil for a new object.
func fieldChanges[T any](old, new *T) []FieldChange {
	var before map[string]json.RawMessage
	if old != nil {
		before = jsonFields(old)
	}
	after := jsonFields(new)
	var out []FieldChange
	for _, f := range reflect.VisibleFields(reflect.TypeFor[T]()) {
		if a, b := before[f.Name], after[f.Name]; string(a) != string(b) {
			out = append(out, FieldChange{Field: f.Name, Old: a, New: b})
		}
	}
	if m, ok := any(new).(*Mailbox); ok {
		var oldHash string
		if o, _ := any(old).(*Mailbox); o != nil {
			oldHash = o.PIN.Hash
		}
		if m.PIN.Hash != oldHash {
			out = append(out, FieldChange{Field: "PIN", New: json.RawMessage(`"(set)"`)})
		}
	}
	return out
}

func jsonFields(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

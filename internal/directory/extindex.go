package directory

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// planExt is an extension in a dial plan, the dial plan's name in lower
// case: what must be unique among mailboxes (DIR-2).
type planExt struct{ plan, ext string }

// extIndex says which mailbox holds each extension of a configuration, so
// that a change to one mailbox is checked against the others by look-up.
// An index is never changed once made: the index of a configuration after
// a change is a layer over the index before it, naming only what moved, and
// layers are folded together once they are many (fold).
type extIndex struct {
	parent *extIndex
	owners map[planExt]string // the mailbox's address; "" for none
	depth  int
}

// maxIndexDepth bounds the layers a look-up walks.
const maxIndexDepth = 16

// owner returns the address of the mailbox holding k, or "".
func (x *extIndex) owner(k planExt) string {
	for ; x != nil; x = x.parent {
		if o, ok := x.owners[k]; ok {
			return o
		}
	}
	return ""
}

// newExtIndex indexes every extension of mailboxes; of two holders of one
// extension (which Validate refuses), the first is kept.
func newExtIndex(mailboxes *MailboxList) *extIndex {
	x := &extIndex{owners: make(map[planExt]string, mailboxes.Len())}
	lower := map[string]string{} // a dial plan's name, in lower case once
	for _, m := range mailboxes.All() {
		plan, ok := lower[m.UMDialPlan]
		if !ok {
			plan = strings.ToLower(m.UMDialPlan)
			lower[m.UMDialPlan] = plan
		}
		for _, ext := range m.Extensions {
			k := planExt{plan, ext}
			if _, taken := x.owners[k]; !taken {
				x.owners[k] = m.EmailAddress
			}
		}
	}
	return x
}

// extensions returns the index of s, making it when s has none.
func (s *Snapshot) extensions() *extIndex {
	if s.exts == nil {
		s.exts = newExtIndex(&s.Mailboxes)
	}
	return s.exts
}

// moved returns the index of next, given x, the index of old, and changes,
// every change from old to next.
func (x *extIndex) moved(old, next *Snapshot, changes []Change) *extIndex {
	layer := &extIndex{parent: x, owners: map[planExt]string{}, depth: x.depth + 1}
	var added []Mailbox
	for _, c := range changes {
		if c.Object.Kind != KindMailbox {
			continue
		}
		var m *Mailbox
		switch {
		case c.Action == Added:
			// A new mailbox's every field is in its change: no search.
			added = append(added, newMailbox(c))
			continue
		case c.Action == Changed && !movesExtensions(c):
			continue
		case c.Action == Changed:
			if n := next.Mailboxes.find(c.Object.Name); n != nil {
				added = append(added, *n)
			}
		}
		if m = old.Mailboxes.find(c.Object.Name); m != nil {
			for _, ext := range m.Extensions {
				layer.owners[planExt{strings.ToLower(m.UMDialPlan), ext}] = ""
			}
		}
	}
	for _, m := range added {
		for _, ext := range m.Extensions {
			layer.owners[planExt{strings.ToLower(m.UMDialPlan), ext}] = m.EmailAddress
		}
	}
	if layer.depth > maxIndexDepth {
		return layer.fold(&next.Mailboxes)
	}
	return layer
}

// fold returns x as one layer over the bottom index, whose mailboxes are
// mailboxes; once the layers name an eighth as many extensions as the
// bottom does, the whole is made afresh. A change then costs in proportion
// to itself, and a fresh index of a large directory is made once in
// thousands of changes rather than once in maxIndexDepth.
func (x *extIndex) fold(mailboxes *MailboxList) *extIndex {
	var layers []*extIndex
	var named int
	bottom := x
	for ; bottom.parent != nil; bottom = bottom.parent {
		layers = append(layers, bottom)
		named += len(bottom.owners)
	}
	if named > len(bottom.owners)/8 {
		return newExtIndex(mailboxes)
	}
	merged := make(map[planExt]string, named)
	for _, l := range slices.Backward(layers) {
		maps.Copy(merged, l.owners)
	}
	return &extIndex{parent: bottom, owners: merged, depth: 1}
}

// movesExtensions reports whether a change to a mailbox moves its
// extensions: new ones, or another dial plan.
func movesExtensions(c Change) bool {
	for _, f := range c.Fields {
		if f.Field == "Extensions" || f.Field == "UMDialPlan" {
			return true
		}
	}
	return false
}

// newMailbox reads back the mailbox an Added change records, as far as
// its extensions go.
func newMailbox(c Change) Mailbox {
	m := Mailbox{EmailAddress: c.Object.Name}
	for _, f := range c.Fields {
		switch f.Field {
		case "UMDialPlan":
			_ = json.Unmarshal(f.New, &m.UMDialPlan)
		case "Extensions":
			_ = json.Unmarshal(f.New, &m.Extensions)
		}
	}
	return m
}

package directory

import (
	"maps"
	"slices"
	"strings"
)

// planExt is an extension in a dial plan, the dial plan's name in lower
// case: what must be unique among mailboxes (DIR-2).
type planExt struct{ plan, ext string }

// extIndex says which mailbox holds each extension of a configuration, so
// that a change to one mailbox is checked against the others by look-up,
// and a call finds its mailbox at once (MailboxByExtension). An entry
// points at the mailbox as the configuration it was made for holds it,
// which a later configuration shares while the mailbox does not change
// (MailboxList never changes a shared mailbox in place); a change points
// at the changed one anew (moved).
//
// An index is never changed once made: the index of a configuration after
// a change is a layer over the index before it, naming only what moved, and
// layers are folded together once they are many (fold).
type extIndex struct {
	parent *extIndex
	owners map[planExt]*Mailbox // nil for none
	depth  int
}

// maxIndexDepth bounds the layers a look-up walks.
const maxIndexDepth = 16

// owner returns the mailbox holding k, or nil.
func (x *extIndex) owner(k planExt) *Mailbox {
	for ; x != nil; x = x.parent {
		if o, ok := x.owners[k]; ok {
			return o
		}
	}
	return nil
}

// newExtIndex indexes every extension of mailboxes; of two holders of one
// extension (which Validate refuses), the first is kept.
func newExtIndex(mailboxes *MailboxList) *extIndex {
	x := &extIndex{owners: make(map[planExt]*Mailbox, mailboxes.Len())}
	lower := map[string]string{} // a dial plan's name, in lower case once
	for _, c := range mailboxes.chunks() {
		for _, m := range c.items {
			plan, ok := lower[m.UMDialPlan]
			if !ok {
				plan = strings.ToLower(m.UMDialPlan)
				lower[m.UMDialPlan] = plan
			}
			for _, ext := range m.Extensions {
				k := planExt{plan, ext}
				if _, taken := x.owners[k]; !taken {
					x.owners[k] = m
				}
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
// every change from old to next. Every mailbox changed is pointed at anew,
// so that a call reads it as next holds it.
func (x *extIndex) moved(old, next *Snapshot, changes []Change) *extIndex {
	layer := &extIndex{parent: x, owners: map[planExt]*Mailbox{}, depth: x.depth + 1}
	var changed []*Mailbox
	for _, c := range changes {
		if c.Object.Kind != KindMailbox {
			continue
		}
		if c.Action != Removed {
			if n := next.Mailboxes.find(c.Object.Name); n != nil {
				changed = append(changed, n)
			}
		}
		if c.Action == Removed || c.Action == Changed && movesExtensions(c) {
			if m := old.Mailboxes.find(c.Object.Name); m != nil {
				for _, ext := range m.Extensions {
					layer.owners[planExt{strings.ToLower(m.UMDialPlan), ext}] = nil
				}
			}
		}
	}
	for _, m := range changed {
		for _, ext := range m.Extensions {
			layer.owners[planExt{strings.ToLower(m.UMDialPlan), ext}] = m
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
	merged := make(map[planExt]*Mailbox, named)
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

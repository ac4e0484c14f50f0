package directory

import (
	"cmp"
	"iter"
	"slices"
	"sync/atomic"
	"unicode/utf8"
	"weak"
)

// MailboxList is the mailboxes of a Snapshot, sorted by address (ignoring
// case as SameName does). It is persistent: a clone shares every mailbox
// with the list it was cloned from, and a change copies the mailbox it
// changes, the chunk of a few hundred pointers that holds it and the list
// of chunks once, so that an Update or a reload touching one mailbox of a
// hundred thousand costs in proportion to the chunk, not to the directory.
// A mailbox is never changed in place once shared: an index may point at
// it (extIndex) in every configuration that holds it unchanged.
//
// Copying a MailboxList value shares it, as copying a slice does: change
// only one of the copies. Snapshot.Clone makes one that may be changed.
// The zero MailboxList is empty and ready.
type MailboxList struct {
	root  *mailboxRoot
	owner *owner // the right to change chunks in place; nil for none
	// frozen is set on a list that readers share (a Watcher's, a cache's):
	// Snapshot.Mailbox then hands out its mailbox without copying a chunk,
	// which would be a write that concurrent readers race.
	frozen bool
}

type mailboxRoot struct {
	owner  *owner
	chunks []*mailboxChunk // none empty
	n      int
}

type mailboxChunk struct {
	owner *owner
	items []*Mailbox
	mine  []bool // whether items[i] was made for the chunk's owner, which may change it
}

// owner is a list's right to change, in place, the root and chunks made
// for it. It names the list (by address, so that a copied value has it
// not) once claimed, weakly: the chunks a later configuration still
// shares must not keep alive the list, and all it held, that made them. A
// clone of the list seals it, so that the original's next change copies
// what the clone now shares.
type owner struct {
	list   atomic.Pointer[weak.Pointer[MailboxList]]
	sealed atomic.Bool
}

// chunkSize is the most mailboxes a chunk holds: a change copies at most
// this many, and the list of chunks of a large directory is a few hundred.
const chunkSize = 256

// MailboxesOf returns a list of the mailboxes ms, sorted by address. It
// sorts ms in place, rather than copy what an engine read: the caller
// hands it over.
func MailboxesOf(ms ...Mailbox) MailboxList {
	sorted := ms
	if !slices.IsSortedFunc(sorted, mailboxOrder) {
		slices.SortStableFunc(sorted, mailboxOrder)
	}
	o := &owner{}
	root := &mailboxRoot{owner: o, n: len(sorted)}
	for len(sorted) > 0 {
		n := min(len(sorted), chunkSize)
		c := &mailboxChunk{owner: o, items: make([]*Mailbox, n, chunkSize), mine: make([]bool, n, chunkSize)}
		for i := range n {
			// One allocation each, so that a mailbox replaced later frees
			// its memory, rather than keep an array of all alive.
			m := sorted[i]
			c.items[i], c.mine[i] = &m, true
		}
		root.chunks = append(root.chunks, c)
		sorted = sorted[n:]
	}
	return MailboxList{root: root, owner: o}
}

func mailboxOrder(a, b Mailbox) int { return compareFold(a.EmailAddress, b.EmailAddress) }

// compareFold orders names by their runes as foldName folds them, so that
// two names compare equal exactly when SameName holds; an ASCII name (as
// nearly all are) sorts as its lower case does.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			if 'A' <= ca && ca <= 'Z' {
				ca += 'a' - 'A'
			}
			if 'A' <= cb && cb <= 'Z' {
				cb += 'a' - 'A'
			}
			if ca != cb {
				return cmp.Compare(ca, cb)
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if fa, fb := foldRune(ra), foldRune(rb); fa != fb {
			return cmp.Compare(fa, fb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// Len returns the number of mailboxes.
func (l *MailboxList) Len() int {
	if l.root == nil {
		return 0
	}
	return l.root.n
}

// All yields each mailbox, a copy, with its position, in address order.
func (l *MailboxList) All() iter.Seq2[int, Mailbox] {
	return func(yield func(int, Mailbox) bool) {
		i := 0
		for _, c := range l.chunks() {
			for _, m := range c.items {
				if !yield(i, *m) {
					return
				}
				i++
			}
		}
	}
}

// Slice returns a copy of every mailbox, in address order.
func (l *MailboxList) Slice() []Mailbox {
	return flatten(l.chunks())
}

func (l *MailboxList) chunks() []*mailboxChunk {
	if l.root == nil {
		return nil
	}
	return l.root.chunks
}

// locate returns the chunk where email sorts, the position in it, and
// whether the mailbox there has that address.
func (l *MailboxList) locate(email string) (chunk, i int, found bool) {
	chunks := l.chunks()
	chunk, _ = slices.BinarySearchFunc(chunks, email, func(c *mailboxChunk, email string) int {
		return compareFold(c.items[len(c.items)-1].EmailAddress, email)
	})
	if chunk == len(chunks) {
		return chunk, 0, false
	}
	i, found = slices.BinarySearchFunc(chunks[chunk].items, email, func(m *Mailbox, email string) int {
		return compareFold(m.EmailAddress, email)
	})
	return chunk, i, found
}

// find returns the mailbox of email for reading, or nil.
func (l *MailboxList) find(email string) *Mailbox {
	c, i, ok := l.locate(email)
	if !ok {
		return nil
	}
	return l.root.chunks[c].items[i]
}

// edit returns the mailbox of email for changing, or nil: it and its chunk
// are copied first unless this list may change them in place, or is frozen.
func (l *MailboxList) edit(email string) *Mailbox {
	c, i, ok := l.locate(email)
	switch {
	case !ok:
		return nil
	case l.frozen:
		return l.root.chunks[c].items[i]
	}
	return l.writable(c).own(i)
}

// own returns mailbox i of the chunk, which the chunk's owner may change:
// a copy, the first time. The copy shares its extensions and PIN history
// with the original: nothing writes into those in place (a change gives a
// mailbox a new list), and each is capped at its length so that an append
// to one copies it rather than writing into the array the other sees.
func (ch *mailboxChunk) own(i int) *Mailbox {
	if !ch.mine[i] {
		m := *ch.items[i]
		m.Extensions = m.Extensions[:len(m.Extensions):len(m.Extensions)]
		m.PIN.History = m.PIN.History[:len(m.PIN.History):len(m.PIN.History)]
		ch.items[i], ch.mine[i] = &m, true
	}
	return ch.items[i]
}

// owns reports whether the list may change in place what o owns,
// claiming o first when no list has.
func (l *MailboxList) owns(o *owner) bool {
	if o == nil || o != l.owner || o.sealed.Load() {
		return false
	}
	if w := o.list.Load(); w != nil {
		return w.Value() == l
	}
	w := weak.Make(l)
	return o.list.CompareAndSwap(nil, &w) || o.list.Load().Value() == l
}

// writable returns chunk c, copied for this list unless it may change it
// in place, and the root with it.
func (l *MailboxList) writable(c int) *mailboxChunk {
	if !l.owns(l.owner) {
		l.owner = &owner{}
		w := weak.Make(l)
		l.owner.list.Store(&w)
	}
	if l.root == nil {
		l.root = &mailboxRoot{owner: l.owner}
	} else if l.root.owner != l.owner {
		l.root = &mailboxRoot{owner: l.owner, chunks: slices.Clone(l.root.chunks), n: l.root.n}
	}
	if c == len(l.root.chunks) {
		return nil
	}
	ch := l.root.chunks[c]
	if ch.owner != l.owner {
		items := make([]*Mailbox, len(ch.items), chunkSize)
		copy(items, ch.items)
		ch = &mailboxChunk{owner: l.owner, items: items, mine: make([]bool, len(items), chunkSize)}
		l.root.chunks[c] = ch
	}
	return ch
}

// add puts m where it sorts; its address must be new.
func (l *MailboxList) add(m Mailbox) error {
	c, i, found := l.locate(m.EmailAddress)
	if found {
		return &ExistsError{Kind: KindMailbox, Name: m.EmailAddress}
	}
	if c == len(l.chunks()) && c > 0 {
		c-- // after the last mailbox: into the last chunk
		i = len(l.root.chunks[c].items)
	}
	ch := l.writable(c)
	if ch == nil { // the first mailbox
		l.root.chunks = []*mailboxChunk{{owner: l.owner, items: []*Mailbox{&m}, mine: []bool{true}}}
		l.root.n = 1
		return nil
	}
	ch.items, ch.mine = slices.Insert(ch.items, i, &m), slices.Insert(ch.mine, i, true)
	l.root.n++
	if len(ch.items) > chunkSize {
		half := len(ch.items) / 2
		tail := &mailboxChunk{owner: l.owner,
			items: append(make([]*Mailbox, 0, chunkSize), ch.items[half:]...),
			mine:  append(make([]bool, 0, chunkSize), ch.mine[half:]...)}
		clear(ch.items[half:]) // let go of what the tail holds now
		ch.items, ch.mine = ch.items[:half], ch.mine[:half]
		l.root.chunks = slices.Insert(l.root.chunks, c+1, tail)
	}
	return nil
}

// remove drops the mailbox of email, reporting whether there was one.
func (l *MailboxList) remove(email string) bool {
	c, i, found := l.locate(email)
	if !found {
		return false
	}
	ch := l.writable(c)
	ch.items, ch.mine = slices.Delete(ch.items, i, i+1), slices.Delete(ch.mine, i, i+1)
	if len(ch.items) == 0 {
		l.root.chunks = slices.Delete(l.root.chunks, c, c+1)
	}
	l.root.n--
	return true
}

// clone returns a list that may be changed without changing l: it shares
// every chunk, and l loses the right to change any in place.
func (l *MailboxList) clone() MailboxList {
	if l.owner != nil {
		l.owner.sealed.Store(true)
	}
	return MailboxList{root: l.root}
}

// freeze marks l shared by readers (see MailboxList.frozen); it is
// changed no more in place, so that an index pointing into it stays true.
func (l *MailboxList) freeze() {
	l.frozen = true
	if l.owner != nil {
		l.owner.sealed.Store(true)
	}
}

// changedSince calls fn with each mailbox that a change to l, a clone of
// old, made or copied to change: those of the chunks l made its own that
// were made for it.
func (l *MailboxList) changedSince(old *MailboxList, fn func(*Mailbox)) {
	shared := make(map[*mailboxChunk]bool, len(old.chunks()))
	for _, c := range old.chunks() {
		shared[c] = true
	}
	for _, ch := range l.chunks() {
		if shared[ch] || !l.owns(ch.owner) {
			continue
		}
		for i, m := range ch.items {
			if ch.mine[i] {
				fn(m)
			}
		}
	}
}

// diffMailboxes is diffKind of two lists of mailboxes, which pairs by
// name only the mailboxes of the chunks that the two do not share.
func diffMailboxes(out []Change, old, new *MailboxList) []Change {
	oc, nc := old.chunks(), new.chunks()
	at := make(map[*mailboxChunk]int, len(oc))
	for i, c := range oc {
		at[c] = i
	}
	i, j := 0, 0
	for i < len(oc) || j < len(nc) {
		if i < len(oc) && j < len(nc) && oc[i] == nc[j] {
			i, j = i+1, j+1
			continue
		}
		// The chunks that differ: up to the next one of new that old
		// holds after them.
		from, to := j, len(oc)
		for ; j < len(nc); j++ {
			if k, ok := at[nc[j]]; ok && k >= i {
				to = k
				break
			}
		}
		out = diffKind(out, KindMailbox, flatten(oc[i:to]), flatten(nc[from:j]))
		i = to
	}
	return out
}

func flatten(chunks []*mailboxChunk) []Mailbox {
	var n int
	for _, c := range chunks {
		n += len(c.items)
	}
	out := make([]Mailbox, 0, n)
	for _, c := range chunks {
		for _, m := range c.items {
			out = append(out, *m)
		}
	}
	return out
}

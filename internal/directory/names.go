package directory

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// spellReferences writes every reference the way the object it names is
// stored, so that "dp1" and "DP1" are one dial plan everywhere; of the
// mailboxes, only those of the chunks s does not share with base, from
// which it was cloned (those a change touched).
func (s *Snapshot) spellReferences(base *Snapshot) {
	dialPlans, gateways, policies := speller(s.DialPlans), speller(s.IPGateways), speller(s.MailboxPolicies)
	for i := range s.HuntGroups {
		gateways(&s.HuntGroups[i].UMIPGateway)
		dialPlans(&s.HuntGroups[i].UMDialPlan)
	}
	for i := range s.MailboxPolicies {
		dialPlans(&s.MailboxPolicies[i].UMDialPlan)
	}
	s.Mailboxes.changedSince(&base.Mailboxes, func(m *Mailbox) {
		dialPlans(&m.UMDialPlan)
		policies(&m.UMMailboxPolicy)
	})
	for i := range s.Servers {
		for j := range s.Servers[i].DialPlans {
			dialPlans(&s.Servers[i].DialPlans[j])
		}
	}
}

// speller returns a function that spells a reference to an object of list
// as the object is stored. A reference spelled so already, as nearly all
// are, costs one look-up that allocates nothing.
func speller[T object[T]](list []T) func(name *string) {
	stored := make(map[string]bool, len(list))
	for _, v := range list {
		stored[v.ident()] = true
	}
	var folded map[string]*T
	return func(name *string) {
		if stored[*name] {
			return
		}
		if folded == nil {
			folded = byName(list)
		}
		if p := folded[foldName(*name)]; p != nil {
			*name = (*p).ident()
		}
	}
}

// Objects returns the object that each change names as s holds it (a
// *DialPlan, *Mailbox, ...; nil for a removed one), for an engine writing
// changes: a search of each kind for a few changes, an index for many.
func (s *Snapshot) Objects(changes []Change) []any {
	n := map[Kind]int{}
	for _, c := range changes {
		n[c.Object.Kind]++
	}
	finders := map[Kind]func(string) any{
		KindDialPlan:      anyFinder(s.DialPlans, n[KindDialPlan]),
		KindIPGateway:     anyFinder(s.IPGateways, n[KindIPGateway]),
		KindHuntGroup:     anyFinder(s.HuntGroups, n[KindHuntGroup]),
		KindServer:        anyFinder(s.Servers, n[KindServer]),
		KindMailboxPolicy: anyFinder(s.MailboxPolicies, n[KindMailboxPolicy]),
		KindMailbox:       findMailbox(&s.Mailboxes),
		KindAdminToken:    anyFinder(s.AdminTokens, n[KindAdminToken]),
	}
	out := make([]any, len(changes))
	for i, c := range changes {
		if f := finders[c.Object.Kind]; f != nil && c.Action != Removed {
			out[i] = f(c.Object.Name)
		}
	}
	return out
}

// findMailbox is anyFinder of mailboxes, which are found by binary search.
func findMailbox(l *MailboxList) func(string) any {
	return func(name string) any {
		if m := l.find(name); m != nil {
			return m
		}
		return nil
	}
}

func anyFinder[T object[T]](list []T, n int) func(string) any {
	if n == 0 {
		return nil
	}
	f := finder(list, n)
	return func(name string) any {
		if p := f(name); p != nil {
			return p
		}
		return nil
	}
}

// finder returns a look-up of objects of list by name for n look-ups: a
// search of the list each for a few, an index made once for many.
func finder[T object[T]](list []T, n int) func(name string) *T {
	if n <= 8 {
		return func(name string) *T { return find(list, name) }
	}
	m := byName(list)
	return func(name string) *T { return m[foldName(name)] }
}

// byName indexes list by folded name; like find, the first of two objects
// whose names are the same wins.
func byName[T object[T]](list []T) map[string]*T {
	m := make(map[string]*T, len(list))
	for i := range list {
		k := foldName(list[i].ident())
		if _, ok := m[k]; !ok {
			m[k] = &list[i]
		}
	}
	return m
}

// foldName returns a key that two names share exactly when SameName holds:
// each rune becomes one member of its case-folding orbit, the equivalence
// strings.EqualFold tests (strings.ToLower would split "ſ" from "s"): the
// lower-case ASCII letter of an orbit that has one, else the orbit's
// smallest rune. A name in lower-case ASCII, as most are, is its own key.
func foldName(name string) string {
	i := 0
	for i < len(name) && name[i] < utf8.RuneSelf && (name[i] < 'A' || name[i] > 'Z') {
		i++
	}
	if i == len(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	b.WriteString(name[:i])
	for _, r := range name[i:] {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return unicode.ToLower(f) // K (Kelvin) is k, ſ is s
		}
		least = min(least, f)
	}
	return least
}

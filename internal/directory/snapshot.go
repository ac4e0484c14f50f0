package directory

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Snapshot is the whole configuration at one moment. Each list is sorted by
// name. A Snapshot returned by Directory.Snapshot is the caller's own: the
// directory never changes it afterwards, so a call can keep the one it began
// with while the configuration moves on. It is for one goroutine: Mailbox
// copies on write what it shares with other snapshots. A Watcher's, which
// many read at once, is frozen instead, and must not be changed.
type Snapshot struct {
	DialPlans       []DialPlan
	IPGateways      []IPGateway
	HuntGroups      []HuntGroup
	Servers         []Server
	MailboxPolicies []MailboxPolicy
	Mailboxes       MailboxList
	AdminTokens     []AdminToken

	// exts indexes the extensions of the configuration this one was cloned
	// from, for Validate and for calls (MailboxByExtension); nil when that
	// one had none made.
	exts *extIndex
}

// object is what every directory object is to the generic helpers below.
type object[T any] interface {
	ident() string
	clone() T
	same(T) bool // equal in every field, so that Diff may skip it
}

// SameName reports whether two names are the same; names ignore case.
func SameName(a, b string) bool { return strings.EqualFold(a, b) }

// nameOrder is the order of every list: by name as SameName folds it,
// the mailboxes' order too (compareFold).
func nameOrder[T object[T]](a, b T) int { return compareFold(a.ident(), b.ident()) }

// search returns where name sorts in list, by binary search, and whether
// the object there has that name.
func search[T object[T]](list []T, name string) (int, bool) {
	i, _ := slices.BinarySearchFunc(list, name, func(v T, name string) int { return compareFold(v.ident(), name) })
	return i, i < len(list) && SameName(list[i].ident(), name)
}

// find returns the named object of list, or nil. The list is sorted, so a
// binary search finds nearly every object in a large directory at once;
// one it misses (an Update's function may have appended or renamed objects
// without sorting them) is searched for.
func find[T object[T]](list []T, name string) *T {
	if i, ok := search(list, name); ok {
		return &list[i]
	}
	for i := range list {
		if SameName(list[i].ident(), name) {
			return &list[i]
		}
	}
	return nil
}

// insert adds v where it sorts. In a sorted list a name is known new by
// the binary search, and v goes in its place; otherwise the whole list is
// searched, then sorted.
func insert[T object[T]](list *[]T, kind Kind, v T) error {
	i, found := search(*list, v.ident())
	if !found && slices.IsSortedFunc(*list, nameOrder[T]) {
		*list = slices.Insert(*list, i, v)
		return nil
	}
	if found || find(*list, v.ident()) != nil {
		return &ExistsError{Kind: kind, Name: v.ident()}
	}
	*list = append(*list, v)
	slices.SortFunc(*list, nameOrder[T])
	return nil
}

func lookup[T object[T]](list []T, kind Kind, name string) (*T, error) {
	if p := find(list, name); p != nil {
		return p, nil
	}
	return nil, &NotFoundError{Kind: kind, Name: name}
}

func cloneAll[T object[T]](list []T) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = v.clone()
	}
	return out
}

// Pack puts the mailboxes' extensions and PIN histories into one array
// each, rather than the one a mailbox (with room to grow) that decoding
// them gives: an engine packs the configuration it reads whole, whose
// lists every clone then shares. Each list is capped at its length.
func (s *Snapshot) Pack() {
	var exts, hist int
	for _, c := range s.Mailboxes.chunks() {
		for _, m := range c.items {
			exts, hist = exts+len(m.Extensions), hist+len(m.PIN.History)
		}
	}
	extArr, histArr := make([]string, 0, exts), make([]string, 0, hist)
	for c := range s.Mailboxes.chunks() {
		ch := s.Mailboxes.writable(c)
		for i := range ch.items {
			m := ch.own(i)
			if m.Extensions != nil {
				extArr = append(extArr, m.Extensions...)
				m.Extensions = extArr[len(extArr)-len(m.Extensions) : len(extArr) : len(extArr)]
			}
			if m.PIN.History != nil {
				histArr = append(histArr, m.PIN.History...)
				m.PIN.History = histArr[len(histArr)-len(m.PIN.History) : len(histArr) : len(histArr)]
			}
		}
	}
}

// Clone returns a copy of s that the caller may change. Its mailboxes are
// shared with s until changed (see MailboxList), so that a clone of a
// large directory costs in proportion to the few other objects.
func (s *Snapshot) Clone() *Snapshot {
	return &Snapshot{
		DialPlans:       cloneAll(s.DialPlans),
		IPGateways:      cloneAll(s.IPGateways),
		HuntGroups:      cloneAll(s.HuntGroups),
		Servers:         cloneAll(s.Servers),
		MailboxPolicies: cloneAll(s.MailboxPolicies),
		Mailboxes:       s.Mailboxes.clone(),
		AdminTokens:     cloneAll(s.AdminTokens),
		exts:            s.exts,
	}
}

// DialPlan returns the named dial plan, which the caller may change in an Update.
func (s *Snapshot) DialPlan(name string) (*DialPlan, error) {
	return lookup(s.DialPlans, KindDialPlan, name)
}

// IPGateway returns the named gateway.
func (s *Snapshot) IPGateway(name string) (*IPGateway, error) {
	return lookup(s.IPGateways, KindIPGateway, name)
}

// HuntGroup returns the named hunt group.
func (s *Snapshot) HuntGroup(name string) (*HuntGroup, error) {
	return lookup(s.HuntGroups, KindHuntGroup, name)
}

// Server returns the named server.
func (s *Snapshot) Server(name string) (*Server, error) {
	return lookup(s.Servers, KindServer, name)
}

// MailboxPolicy returns the named mailbox policy.
func (s *Snapshot) MailboxPolicy(name string) (*MailboxPolicy, error) {
	return lookup(s.MailboxPolicies, KindMailboxPolicy, name)
}

// Mailbox returns the mailbox with the given e-mail address, which the
// caller may change in an Update.
func (s *Snapshot) Mailbox(email string) (*Mailbox, error) {
	if m := s.Mailboxes.edit(email); m != nil {
		return m, nil
	}
	return nil, &NotFoundError{Kind: KindMailbox, Name: email}
}

// AddDialPlan adds d; its name must be new.
func (s *Snapshot) AddDialPlan(d DialPlan) error { return insert(&s.DialPlans, KindDialPlan, d) }

// AddIPGateway adds g; its name must be new.
func (s *Snapshot) AddIPGateway(g IPGateway) error { return insert(&s.IPGateways, KindIPGateway, g) }

// AddHuntGroup adds h; its name must be new.
func (s *Snapshot) AddHuntGroup(h HuntGroup) error { return insert(&s.HuntGroups, KindHuntGroup, h) }

// AddServer adds sv; its name must be new.
func (s *Snapshot) AddServer(sv Server) error { return insert(&s.Servers, KindServer, sv) }

// AddMailboxPolicy adds p; its name must be new.
func (s *Snapshot) AddMailboxPolicy(p MailboxPolicy) error {
	return insert(&s.MailboxPolicies, KindMailboxPolicy, p)
}

// AddMailbox adds m; its address must be new, ignoring case as mail
// systems do, and a bare e-mail address without /, \, "..", spaces or
// control characters.
func (s *Snapshot) AddMailbox(m Mailbox) error {
	if err := checkAddress(m.EmailAddress); err != nil {
		return err
	}
	return s.Mailboxes.add(m)
}

// Ref names one object, or with Field one reference held in that field.
type Ref struct {
	Kind  Kind
	Name  string
	Field string `json:",omitempty"`
}

func (r Ref) String() string {
	name := r.Name
	if strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		name = strconv.Quote(name) // a refused name must not break an error's one line
	}
	if r.Field != "" {
		return fmt.Sprintf("%s %s (%s)", r.Kind, name, r.Field)
	}
	return fmt.Sprintf("%s %s", r.Kind, name)
}

// Remove removes the named object. While other objects refer to it, Remove
// refuses with an *InUseError unless force is set; with force it removes those
// dependants too (a server only loses the dial plan from its DialPlans) and
// returns what it removed or changed besides the object itself.
func (s *Snapshot) Remove(kind Kind, name string, force bool) ([]Ref, error) {
	target, err := s.ref(kind, name)
	if err != nil {
		return nil, err
	}
	deps := s.dependants(target)
	if len(deps) > 0 && !force {
		return nil, &InUseError{Object: target, Dependants: deps}
	}
	for _, d := range append(deps, target) {
		s.drop(d, target)
	}
	return deps, nil
}

// ref checks that the object exists and returns its Ref with the name as stored.
func (s *Snapshot) ref(kind Kind, name string) (Ref, error) {
	switch kind {
	case KindDialPlan:
		return refIn(s.DialPlans, kind, name)
	case KindIPGateway:
		return refIn(s.IPGateways, kind, name)
	case KindHuntGroup:
		return refIn(s.HuntGroups, kind, name)
	case KindServer:
		return refIn(s.Servers, kind, name)
	case KindMailboxPolicy:
		return refIn(s.MailboxPolicies, kind, name)
	case KindMailbox:
		if m := s.Mailboxes.find(name); m != nil {
			return Ref{Kind: kind, Name: m.EmailAddress}, nil
		}
		return Ref{}, &NotFoundError{Kind: kind, Name: name}
	case KindAdminToken:
		return refIn(s.AdminTokens, kind, name)
	}
	return Ref{}, fmt.Errorf("directory: unknown kind %q", kind)
}

func refIn[T object[T]](list []T, kind Kind, name string) (Ref, error) {
	p, err := lookup(list, kind, name)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Kind: kind, Name: (*p).ident()}, nil
}

// dependants lists, dependants first, every object that would dangle without r.
func (s *Snapshot) dependants(r Ref) []Ref {
	var out []Ref
	add := func(k Kind, name string) {
		ref := Ref{Kind: k, Name: name}
		out = append(out, s.dependants(ref)...)
		out = append(out, ref)
	}
	switch r.Kind {
	case KindDialPlan:
		for _, h := range s.HuntGroups {
			if SameName(h.UMDialPlan, r.Name) {
				add(KindHuntGroup, h.Name)
			}
		}
		for _, m := range s.Mailboxes.All() {
			if SameName(m.UMDialPlan, r.Name) {
				add(KindMailbox, m.EmailAddress)
			}
		}
		for _, p := range s.MailboxPolicies {
			if SameName(p.UMDialPlan, r.Name) {
				add(KindMailboxPolicy, p.Name)
			}
		}
		for _, sv := range s.Servers {
			if slices.ContainsFunc(sv.DialPlans, func(n string) bool { return SameName(n, r.Name) }) {
				out = append(out, Ref{Kind: KindServer, Name: sv.Name, Field: "DialPlans"})
			}
		}
	case KindIPGateway:
		for _, h := range s.HuntGroups {
			if SameName(h.UMIPGateway, r.Name) {
				add(KindHuntGroup, h.Name)
			}
		}
	case KindMailboxPolicy:
		for _, m := range s.Mailboxes.All() {
			if SameName(m.UMMailboxPolicy, r.Name) {
				add(KindMailbox, m.EmailAddress)
			}
		}
	}
	return firstOfEach(out)
}

// firstOfEach drops every repeat of an object already listed.
func firstOfEach(refs []Ref) []Ref {
	var out []Ref
	for _, r := range refs {
		if !slices.ContainsFunc(out, func(o Ref) bool { return o.Kind == r.Kind && SameName(o.Name, r.Name) }) {
			out = append(out, r)
		}
	}
	return out
}

func without[T object[T]](list []T, name string) []T {
	return slices.DeleteFunc(list, func(v T) bool { return SameName(v.ident(), name) })
}

// drop removes r, or when r names a field, takes removed out of that field.
func (s *Snapshot) drop(r, removed Ref) {
	switch r.Kind {
	case KindDialPlan:
		s.DialPlans = without(s.DialPlans, r.Name)
	case KindIPGateway:
		s.IPGateways = without(s.IPGateways, r.Name)
	case KindHuntGroup:
		s.HuntGroups = without(s.HuntGroups, r.Name)
	case KindServer:
		if r.Field == "" {
			s.Servers = without(s.Servers, r.Name)
			return
		}
		sv, _ := s.Server(r.Name)
		sv.DialPlans = slices.DeleteFunc(sv.DialPlans, func(n string) bool { return SameName(n, removed.Name) })
	case KindMailboxPolicy:
		s.MailboxPolicies = without(s.MailboxPolicies, r.Name)
	case KindMailbox:
		s.Mailboxes.remove(r.Name)
	case KindAdminToken:
		s.AdminTokens = without(s.AdminTokens, r.Name)
	}
}

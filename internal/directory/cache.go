package directory

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// Cache is the last configuration an engine read or wrote, kept so that
// its next read asks the store only for the objects changed since, which
// the audit log names (AuditedObjects), rather than for every object: a server
// following a large directory reloads in proportion to the change.
//
// The snapshot a Cache holds is never changed: a newer one replaces it.
// Engines hand out clones of it. The zero Cache is empty and ready.
type Cache struct {
	mu      sync.Mutex
	snap    *Snapshot
	version uint64 // the engine's Version of snap
	audit   int64  // the ID of the last audit record snap includes
}

// MaxPatch is the most objects an engine re-reads to bring a cached
// configuration up to date; beyond it, reading everything costs less.
const MaxPatch = 10000

// Get returns the cached configuration (nil when there is none), its
// version, and the ID of the last audit record it includes.
func (c *Cache) Get() (snap *Snapshot, version uint64, audit int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap, c.version, c.audit
}

// Put keeps snap, which the caller no longer changes, unless the cache
// holds a newer version already. It makes snap's extension index, so that
// the Updates from it check new extensions by look-up and calls find
// mailboxes by it, and freezes its mailboxes, which its clones share.
func (c *Cache) Put(snap *Snapshot, version uint64, audit int64) {
	snap.extensions()
	snap.Mailboxes.freeze()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil || version >= c.version {
		c.snap, c.version, c.audit = snap, version, audit
	}
}

// AuditedObjects returns the objects that the audit records named, each once,
// from their JSON (an audit record's changes column); false when they are
// more than MaxPatch.
func AuditedObjects(records []string) ([]Ref, bool) {
	seen := map[Ref]bool{}
	var out []Ref
	for _, rec := range records {
		var changes []struct{ Object Ref }
		if err := json.Unmarshal([]byte(rec), &changes); err != nil {
			return nil, false
		}
		for _, c := range changes {
			if r := (Ref{Kind: c.Object.Kind, Name: c.Object.Name}); !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
		if len(out) > MaxPatch {
			return nil, false
		}
	}
	return out, true
}

// Patch returns a configuration that is s with the objects refs name as
// fresh holds them: replaced, added, or removed when fresh has none. fresh
// holds the objects re-read from the store by those names. s is left as
// it was; what did not change is shared with it.
func Patch(s *Snapshot, refs []Ref, fresh *Snapshot) *Snapshot {
	names := map[Kind][]string{}
	for _, r := range refs {
		names[r.Kind] = append(names[r.Kind], r.Name)
	}
	out := &Snapshot{
		DialPlans:       patchList(s.DialPlans, names[KindDialPlan], fresh.DialPlans),
		IPGateways:      patchList(s.IPGateways, names[KindIPGateway], fresh.IPGateways),
		HuntGroups:      patchList(s.HuntGroups, names[KindHuntGroup], fresh.HuntGroups),
		Servers:         patchList(s.Servers, names[KindServer], fresh.Servers),
		MailboxPolicies: patchList(s.MailboxPolicies, names[KindMailboxPolicy], fresh.MailboxPolicies),
		Mailboxes:       s.Mailboxes.clone(),
		AdminTokens:     patchList(s.AdminTokens, names[KindAdminToken], fresh.AdminTokens),
	}
	for _, name := range names[KindMailbox] {
		out.Mailboxes.remove(name)
	}
	for _, m := range fresh.Mailboxes.All() {
		out.Mailboxes.remove(m.EmailAddress)
		_ = out.Mailboxes.add(m)
	}
	out.reindex(s, refs)
	return out
}

// reindex gives s the index of its extensions, from that of old, of which
// s differs only in the objects of refs.
func (s *Snapshot) reindex(old *Snapshot, refs []Ref) {
	var changes []Change
	for _, r := range refs {
		if r.Kind == KindMailbox {
			// As if its extensions moved: the index looks the mailbox up
			// on both sides.
			changes = append(changes, Change{Object: r, Action: Changed, Fields: []FieldChange{{Field: "Extensions"}}})
		}
	}
	s.exts = old.extensions().moved(old, s, changes)
}

// patchList drops the objects named from list and puts in those of fresh,
// each where it sorts.
func patchList[T object[T]](list []T, names []string, fresh []T) []T {
	if len(names) == 0 && len(fresh) == 0 {
		return list
	}
	gone := map[string]bool{}
	for _, n := range names {
		gone[foldName(n)] = true
	}
	for _, v := range fresh {
		gone[foldName(v.ident())] = true
	}
	out := make([]T, 0, len(list)+len(fresh))
	for _, v := range list {
		if !gone[foldName(v.ident())] {
			out = append(out, v)
		}
	}
	for _, v := range fresh {
		key := strings.ToLower(v.ident())
		i, _ := slices.BinarySearchFunc(out, key, func(o T, key string) int { return strings.Compare(strings.ToLower(o.ident()), key) })
		out = slices.Insert(out, i, v)
	}
	return out
}

package directory

// Rebase carries the changes that turned base into next over to latest, a
// newer configuration that other writers made from base meanwhile, for an
// engine whose writers read without a lock and check at commit (optimistic
// concurrency). When another writer changed one of the objects in changes,
// Rebase returns a *ConflictError naming it; otherwise it returns latest
// with those objects taken from next, checked as a whole (Validate), so that
// a change can never break a rule together with another writer's.
func Rebase(base, next, latest *Snapshot, changes []Change) (*Snapshot, error) {
	refs := make([]Ref, len(changes))
	for i, c := range changes {
		refs[i] = c.Object
	}
	for _, theirs := range Diff(base, latest) {
		if touched(refs, theirs.Object.Kind, theirs.Object.Name) {
			return nil, &ConflictError{Object: theirs.Object}
		}
	}
	out := latest.Clone()
	for _, r := range refs {
		switch r.Kind {
		case KindDialPlan:
			carry(&out.DialPlans, next.DialPlans, r.Name)
		case KindIPGateway:
			carry(&out.IPGateways, next.IPGateways, r.Name)
		case KindHuntGroup:
			carry(&out.HuntGroups, next.HuntGroups, r.Name)
		case KindServer:
			carry(&out.Servers, next.Servers, r.Name)
		case KindMailboxPolicy:
			carry(&out.MailboxPolicies, next.MailboxPolicies, r.Name)
		case KindMailbox:
			out.Mailboxes.remove(r.Name)
			if m := next.Mailboxes.find(r.Name); m != nil {
				_ = out.Mailboxes.add(m.clone())
			}
		case KindAdminToken:
			carry(&out.AdminTokens, next.AdminTokens, r.Name)
		}
	}
	if err := Validate(out, refs); err != nil {
		return nil, err
	}
	out.reindex(latest, refs)
	return out, nil
}

// carry makes the object name of list what it is in from: replaced, added,
// or removed when from has none.
func carry[T object[T]](list *[]T, from []T, name string) {
	*list = without(*list, name)
	if v := find(from, name); v != nil {
		_ = insert(list, "", (*v).clone())
	}
}

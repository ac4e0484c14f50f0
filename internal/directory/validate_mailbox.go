package directory

import (
	"slices"
	"strings"
	"unicode"
)

// validateMailboxes checks the mailboxes that changed, and those whose
// dial plan or policy changed; all of them when changed is nil or s was
// not cloned from an indexed configuration (see Prepare). An
// extension is looked up in the index of the configuration s was cloned
// from (changed names all that differs from it), so that one new mailbox
// of a large directory costs in proportion to itself.
func (s *Snapshot) validateMailboxes(changed []Ref) error {
	var check []Mailbox
	if changed != nil && s.exts != nil {
		check = s.mailboxesToCheck(changed)
	} else {
		check = s.Mailboxes.Slice()
	}
	// Changed mailboxes come last, so that a clash is told from their side.
	names := map[string]bool{}
	for _, r := range changed {
		if r.Kind == KindMailbox {
			names[foldName(r.Name)] = true
		}
	}
	slices.SortStableFunc(check, func(a, b Mailbox) int {
		ta, tb := names[foldName(a.EmailAddress)], names[foldName(b.EmailAddress)]
		switch {
		case ta == tb:
			return 0
		case tb:
			return -1
		}
		return 1
	})
	owners := s.extOwners(changed, check)
	owner := map[planExt]string{}
	for _, m := range check {
		obj := Ref{Kind: KindMailbox, Name: m.EmailAddress}
		if err := plainAddress(obj, m.EmailAddress); err != nil {
			return err
		}
		if len(m.DisplayName) > 256 || strings.ContainsFunc(m.DisplayName, unicode.IsControl) {
			return fieldErr(obj, "DisplayName", "must be one line of at most 256 characters")
		}
		dp, err := named(obj, "UMDialPlan", "dial plan", m.UMDialPlan, s.DialPlan)
		if err != nil {
			return err
		}
		p, err := named(obj, "UMMailboxPolicy", "policy", m.UMMailboxPolicy, s.MailboxPolicy)
		if err != nil {
			return err
		}
		if !SameName(p.UMDialPlan, dp.Name) {
			return fieldErr(obj, "UMMailboxPolicy", "names policy %s of dial plan %s, not of the mailbox's dial plan %s", p.Name, p.UMDialPlan, dp.Name)
		}
		if len(m.Extensions) == 0 {
			return fieldErr(obj, "Extensions", "must hold at least one extension")
		}
		for _, ext := range m.Extensions {
			if len(ext) != dp.NumberOfDigitsInExtension || !digitsRE.MatchString(ext) {
				return fieldErr(obj, "Extensions", "%q must be exactly %d digits (NumberOfDigitsInExtension of dial plan %s)", ext, dp.NumberOfDigitsInExtension, dp.Name)
			}
			key := planExt{strings.ToLower(dp.Name), ext}
			other, taken := owner[key]
			if !taken {
				other, taken = owners(key, m.EmailAddress)
			}
			if taken {
				return fieldErr(obj, "Extensions", "%s is already the extension of %s in dial plan %s", ext, other, dp.Name)
			}
			owner[key] = m.EmailAddress
		}
	}
	return nil
}

// mailboxesToCheck returns the changed mailboxes and those that refer to a
// changed dial plan or policy, in their order.
func (s *Snapshot) mailboxesToCheck(changed []Ref) []Mailbox {
	mailboxes, plans, policies := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range changed {
		switch r.Kind {
		case KindMailbox:
			mailboxes[foldName(r.Name)] = true
		case KindDialPlan:
			plans[foldName(r.Name)] = true
		case KindMailboxPolicy:
			policies[foldName(r.Name)] = true
		}
	}
	var out []Mailbox
	if len(plans)+len(policies) == 0 && len(mailboxes) <= 8 {
		// A few changed mailboxes, and nothing they depend on: search for
		// them rather than look at every mailbox.
		for _, r := range changed {
			if r.Kind != KindMailbox {
				continue
			}
			if m := s.Mailboxes.find(r.Name); m != nil {
				out = append(out, *m)
			}
		}
		slices.SortStableFunc(out, func(a, b Mailbox) int {
			return strings.Compare(strings.ToLower(a.EmailAddress), strings.ToLower(b.EmailAddress))
		})
		return slices.CompactFunc(out, func(a, b Mailbox) bool { return SameName(a.EmailAddress, b.EmailAddress) })
	}
	for _, m := range s.Mailboxes.All() {
		if mailboxes[foldName(m.EmailAddress)] || plans[foldName(m.UMDialPlan)] || policies[foldName(m.UMMailboxPolicy)] {
			out = append(out, m)
		}
	}
	return out
}

// extOwners returns the function that tells which mailbox, not among
// checked, holds an extension: by the index of the configuration s was
// cloned from, less the mailboxes that changed since; none when every
// mailbox is checked.
func (s *Snapshot) extOwners(changed []Ref, checked []Mailbox) func(k planExt, self string) (string, bool) {
	if len(checked) == s.Mailboxes.Len() {
		return func(planExt, string) (string, bool) { return "", false }
	}
	moved := map[string]bool{}
	for _, m := range checked {
		moved[foldName(m.EmailAddress)] = true
	}
	for _, r := range changed {
		if r.Kind == KindMailbox {
			moved[foldName(r.Name)] = true
		}
	}
	return func(k planExt, self string) (string, bool) {
		o := s.exts.owner(k)
		if o == nil || moved[foldName(o.EmailAddress)] {
			return "", false
		}
		return o.EmailAddress, true
	}
}

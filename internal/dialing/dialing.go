// Package dialing decides the numbers the server itself dials out (SPEC
// DIAL-1, DIAL-2, DIAL-4): which dialing rule a number matches, whether the
// caller may dial it, the exact string sent to the gateway, which gateways
// may carry it, and the daily outcall budgets. It places no call and reads
// only a directory snapshot; call answering's routing of inbound calls is
// not its business.
//
// # The number as entered
//
// Spaces, dashes, dots and parentheses are dropped ("+1 (425) 555-0100" is
// "+14255550100"). What is left must be 1 to 32 digits, optionally after
// one leading +; anything else (a letter, # or *, a + further in) is
// refused as invalid rather than guessed at. The number is then of one
// kind:
//
//   - Extension: exactly the dial plan's NumberOfDigitsInExtension digits,
//     without +. A call inside the dial plan: no rule applies and it is
//     dialled as it is, when AllowDialPlanSubscribers (the extension of a
//     mailbox of the dial plan) or AllowExtensions (any extension) allow.
//   - International: +CC... whose country code is not the dial plan's
//     CountryOrRegionCode, or digits that begin with InternationalAccessCode
//     (which is removed) followed by another country's code.
//   - In-country: +CC... or InternationalAccessCode+CC... with the dial
//     plan's own country code (the national number follows it), digits that
//     begin with NationalNumberPrefix (which is removed), or any other
//     digits, taken as the national number.
//
// InternationalAccessCode is looked for before NationalNumberPrefix, since
// one often begins with the other (00 and 0). Without CountryOrRegionCode
// every +number is international; without InternationalAccessCode only a
// +number is.
//
// # What the masks are matched against
//
// As Exchange does before it compares a number with the dialing rules, the
// dial plan's codes are put in front of it (Exchange's Play on Phone:
// 8005551212 becomes 918005551212, +44 12345678 becomes 90114412345678):
//
//	in-country:    OutsideLineAccessCode + NationalNumberPrefix + national number
//	international: OutsideLineAccessCode + InternationalAccessCode + country code + number
//
// which is why Exchange's example mask 91425xxxxxxx begins with 9 (the
// outside line) and 1 (the national prefix). In-country numbers are matched
// against ConfiguredInCountryOrRegionGroups only, international ones
// against ConfiguredInternationalGroups only.
//
// # Matching
//
// A mask matches when each of its digits equals the digit at the same
// place, each x takes one digit, and a trailing * takes all the digits
// left, none included; a mask without * matches only strings of its own
// length, so a number shorter than the mask never matches. When several
// masks match (Exchange's own example leaves 914255550100 to both
// 91425xxxxxxx and 91xxxxxxxxxx), the most specific wins: the most literal
// digits, then the fewest wildcards, a * counting as more than any number
// of x (it stands for any length), then the first listed. The rules are an
// allow-list: a number that matches none is refused.
//
// # The dialled number
//
// The matching rule's DialedNumber is sent exactly as written, the dial
// plan's codes are not added again, with its x filled in order by the
// digits the mask's x took (the last ones, when DialedNumber has fewer x:
// mask 91xxxxxxxxxx dialled as 9xxxxxxx drops the area code) and its *
// replaced by the digits the mask's * took. A leading + is kept, for
// gateways that want E.164.
package dialing

import (
	"fmt"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Kind is what a number is to a dial plan.
type Kind string

// The kinds of number.
const (
	Extension     Kind = "Extension"
	InCountry     Kind = "InCountryOrRegion"
	International Kind = "International"
)

// maxDigits is the longest number accepted, E.164's 15 digits with room for
// access codes.
const maxDigits = 32

// Number is a number as a dial plan reads it.
type Number struct {
	Entered string // as the caller or administrator gave it
	Kind    Kind
	// Match is what the masks are matched against: the digits with the
	// dial plan's codes in front, or the extension.
	Match string
}

// Parse reads entered as dp reads it. The error names the rule it breaks.
func Parse(dp *directory.DialPlan, entered string) (Number, error) {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" \t-.()", r) {
			return -1
		}
		return r
	}, entered)
	plus := strings.HasPrefix(s, "+")
	digits := strings.TrimPrefix(s, "+")
	if digits == "" || len(digits) > maxDigits || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
		return Number{}, fmt.Errorf("dialing: %q is not a telephone number: it must be 1 to %d digits, optionally after +, with spaces, dashes, dots and parentheses ignored", entered, maxDigits)
	}
	n := Number{Entered: entered}
	if !plus && len(digits) == dp.NumberOfDigitsInExtension {
		n.Kind, n.Match = Extension, digits
		return n, nil
	}
	international := plus
	if iac := dp.InternationalAccessCode; !plus && iac != "" && strings.HasPrefix(digits, iac) {
		international, digits = true, strings.TrimPrefix(digits, iac)
	} else if nnp := dp.NationalNumberPrefix; !plus && nnp != "" {
		digits = strings.TrimPrefix(digits, nnp)
	}
	if cc := dp.CountryOrRegionCode; international && cc != "" && strings.HasPrefix(digits, cc) {
		international, digits = false, strings.TrimPrefix(digits, cc)
	}
	if digits == "" {
		return Number{}, fmt.Errorf("dialing: %q holds only an access code or prefix, no number", entered)
	}
	if international {
		n.Kind, n.Match = International, dp.OutsideLineAccessCode+dp.InternationalAccessCode+digits
	} else {
		n.Kind, n.Match = InCountry, dp.OutsideLineAccessCode+dp.NationalNumberPrefix+digits
	}
	return n, nil
}

// Rules returns the dial plan's rules that numbers of kind k are matched
// against; none for an extension.
func Rules(dp *directory.DialPlan, k Kind) []directory.DialingRuleGroup {
	switch k {
	case InCountry:
		return dp.ConfiguredInCountryOrRegionGroups
	case International:
		return dp.ConfiguredInternationalGroups
	}
	return nil
}

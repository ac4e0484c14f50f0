package dialing

import (
	"cmp"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Match is a dialing rule that matched a number.
type Match struct {
	Rule       directory.DialingRuleGroup
	Index      int    // the rule's place in its list
	DialString string // what is sent to the gateway
}

// specificity orders matching masks: the most literal digits first, then
// the fewest wildcards, a * counting as more than any number of x.
type specificity struct{ literals, star, xs int }

func (a specificity) compare(b specificity) int {
	return cmp.Or(cmp.Compare(b.literals, a.literals), cmp.Compare(a.star, b.star), cmp.Compare(a.xs, b.xs))
}

// MatchRule returns the most specific of rules whose mask matches s (the
// first listed among equals), and the string to dial; false if none does.
func MatchRule(rules []directory.DialingRuleGroup, s string) (Match, bool) {
	best, bestSpec := -1, specificity{}
	var bestX, bestStar string
	for i, r := range rules {
		xs, star, ok := matchMask(r.NumberMask, s)
		if !ok || strings.Count(strings.ToLower(r.DialedNumber), "x") > len(xs) {
			continue // the directory refuses such a rule; never dial half a number
		}
		spec := specificity{literals: len(r.NumberMask) - len(xs), xs: len(xs)}
		if strings.HasSuffix(r.NumberMask, "*") {
			spec.star, spec.literals = 1, spec.literals-1
		}
		if best < 0 || spec.compare(bestSpec) < 0 {
			best, bestSpec, bestX, bestStar = i, spec, xs, star
		}
	}
	if best < 0 {
		return Match{}, false
	}
	r := rules[best]
	return Match{Rule: r, Index: best, DialString: fill(r.DialedNumber, bestX, bestStar)}, true
}

// matchMask matches s against mask and returns the digits its x took, in
// order, and those its trailing * took.
func matchMask(mask, s string) (xs, star string, ok bool) {
	fixed, hasStar := strings.CutSuffix(mask, "*")
	if len(s) < len(fixed) || (!hasStar && len(s) != len(fixed)) {
		return "", "", false
	}
	var b strings.Builder
	for i := range len(fixed) {
		switch c := fixed[i]; c {
		case 'x', 'X':
			b.WriteByte(s[i])
		default:
			if c != s[i] {
				return "", "", false
			}
		}
	}
	return b.String(), s[len(fixed):], true
}

// fill builds the dialled number: each x of dialed takes, in order, one of
// the last digits of xs, and its * takes star.
func fill(dialed, xs, star string) string {
	n := strings.Count(strings.ToLower(dialed), "x")
	xs = xs[len(xs)-n:]
	var b strings.Builder
	for i := range len(dialed) {
		switch c := dialed[i]; c {
		case 'x', 'X':
			b.WriteByte(xs[0])
			xs = xs[1:]
		case '*':
			b.WriteString(star)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

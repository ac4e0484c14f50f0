package directory

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// DialingRuleGroup is one dialing rule of a dial plan (SPEC DIAL-1):
// numbers matching NumberMask are dialled as DialedNumber. As in Exchange,
// Name is the group the rule belongs to: several rules may share one, and
// the Allowed*Groups lists name groups (package dialing says how a mask
// matches and how the dialled number is built).
type DialingRuleGroup struct {
	Name         string
	NumberMask   string
	DialedNumber string
	Comment      string `json:",omitempty"`
}

var (
	// A mask is matched against digits only (package dialing strips the
	// rest), so a + in it could never match.
	numberMaskRE = regexp.MustCompile(`^[0-9xX]*\*?$`)
	dialedRE     = regexp.MustCompile(`^\+?([0-9xX]+\*?|\*)$`)
)

// maxRuleName is Exchange's limit on a dialing rule's name.
const maxRuleName = 32

// RuleError reports a broken dialing rule: Index is its place in its list.
type RuleError struct {
	Index int
	Group string
	Rule  string
}

func (e *RuleError) Error() string {
	if e.Group == "" {
		return e.Rule
	}
	return fmt.Sprintf("group %q: %s", e.Group, e.Rule)
}

// CheckRules checks each rule of one list (a dial plan's in-country/region
// or international rules) and returns an error for every broken one, in
// list order, so that an import can name each wrong row.
func CheckRules(rules []DialingRuleGroup) []*RuleError {
	var errs []*RuleError
	for i, g := range rules {
		if rule := checkRule(g, rules[:i]); rule != "" {
			group := g.Name
			if strings.HasPrefix(rule, "Name ") {
				group = ""
			}
			errs = append(errs, &RuleError{Index: i, Group: group, Rule: rule})
		}
	}
	return errs
}

// checkRule returns the rule g breaks, given the rules listed before it.
func checkRule(g DialingRuleGroup, earlier []DialingRuleGroup) string {
	xs := func(s string) int { return strings.Count(strings.ToLower(s), "x") }
	switch {
	case g.Name == "" || len(g.Name) > maxRuleName || strings.TrimSpace(g.Name) != g.Name ||
		strings.ContainsFunc(g.Name, func(r rune) bool { return unicode.IsControl(r) || r == ',' }):
		return fmt.Sprintf("Name must be 1 to %d characters without commas or surrounding spaces, not %q", maxRuleName, g.Name)
	case g.NumberMask == "" || !numberMaskRE.MatchString(g.NumberMask):
		return fmt.Sprintf("NumberMask must be digits and x, optionally ending in *, not %q", g.NumberMask)
	case !dialedRE.MatchString(g.DialedNumber):
		return fmt.Sprintf("DialedNumber must be digits and x, optionally after + and ending in *, not %q", g.DialedNumber)
	case xs(g.DialedNumber) > xs(g.NumberMask):
		return fmt.Sprintf("DialedNumber %s has %d x, more than the %d of NumberMask %s: each x is a digit the mask matched",
			g.DialedNumber, xs(g.DialedNumber), xs(g.NumberMask), g.NumberMask)
	case strings.HasSuffix(g.DialedNumber, "*") && !strings.HasSuffix(g.NumberMask, "*"):
		return fmt.Sprintf("DialedNumber %s ends in *, but NumberMask %s has no * to fill it", g.DialedNumber, g.NumberMask)
	case strings.ContainsFunc(g.Comment, unicode.IsControl):
		return "Comment must be one line"
	}
	for _, o := range earlier {
		if strings.EqualFold(o.NumberMask, g.NumberMask) {
			return fmt.Sprintf("NumberMask %s is already the mask of a rule of group %q listed before, so this rule could never match", g.NumberMask, o.Name)
		}
	}
	return ""
}

func ruleGroups(obj Ref, field string, rules []DialingRuleGroup) error {
	if errs := CheckRules(rules); len(errs) > 0 {
		return fieldErr(obj, field, "%s", errs[0])
	}
	return nil
}

// groupsConfigured checks that every allowed group is configured in dialPlan.
func groupsConfigured(obj Ref, field string, allowed []string, configured []DialingRuleGroup, dialPlan string) error {
	for _, name := range allowed {
		if !slices.ContainsFunc(configured, func(g DialingRuleGroup) bool { return SameName(g.Name, name) }) {
			return fieldErr(obj, field, "names %q, which is not a configured group of dial plan %s", name, dialPlan)
		}
	}
	return nil
}

package ops

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// A dial plan's dialing rules (openum dialplan rule): listed, added one at
// a time, removed by group (and mask), or replaced whole by a CSV file's
// rows, each change one audited update of the dial plan, checked as its
// other fields are.
const (
	Rules      Verb = "rules"       // the rules of both lists, in order
	RuleAdd    Verb = "rule-add"    // one rule, at the end of its list
	RuleRemove Verb = "rule-remove" // a group's rules, or its rule with a mask
	RuleImport Verb = "rule-import" // a list replaced by CSV rows
)

// The two lists a rule goes in, as RuleRow.List names them.
const (
	InCountryList     = "InCountryOrRegion"
	InternationalList = "International"
)

// RuleRow is one dialing rule and the list it is in.
type RuleRow struct {
	List string
	directory.DialingRuleGroup
}

var ruleListParams = []Param{
	{"in-country", "bool", "the in-country/region rules (ConfiguredInCountryOrRegionGroups)"},
	{"international", "bool", "the international rules (ConfiguredInternationalGroups)"},
}

// ruleParams are the rule verbs' parameters.
var ruleParams = map[Verb][]Param{
	Rules: ruleListParams, // which list a listing shows: the client's choice
	RuleAdd: append(slices.Clone(ruleListParams),
		Param{"name", "string", "the group the rule belongs to (required)"},
		Param{"mask", "string", "digits, x for one digit, a trailing * for the rest (required)"},
		Param{"dialed", "string", "what is dialled: digits, x and * filled from the number, optionally after + (required)"},
		Param{"comment", "string", "a note"}),
	RuleRemove: append(slices.Clone(ruleListParams),
		Param{"name", "string", "the group (required)"},
		Param{"mask", "string", "only the group's rule with this mask"}),
	RuleImport: append(slices.Clone(ruleListParams),
		Param{"csv", "string", "the CSV rows, Name,NumberMask,DialedNumber[,Comment]"},
		Param{"file", "string", "the CSV file's name, which errors name (default: csv)"}),
}

// RuleParams returns the parameters of a rule verb.
func RuleParams(v Verb) []Param { return ruleParams[v] }

// ruleRows are dp's rules, both lists, in order.
func ruleRows(dp *directory.DialPlan) []RuleRow {
	rows := []RuleRow{}
	for _, r := range dp.ConfiguredInCountryOrRegionGroups {
		rows = append(rows, RuleRow{InCountryList, r})
	}
	for _, r := range dp.ConfiguredInternationalGroups {
		rows = append(rows, RuleRow{InternationalList, r})
	}
	return rows
}

// dialPlanRules are the rules of the dial plan named.
func dialPlanRules(s *directory.Snapshot, name string) ([]RuleRow, error) {
	dp, err := s.DialPlan(name)
	if err != nil {
		return nil, refused(err)
	}
	return ruleRows(dp), nil
}

// changeRules makes the change of verb to the dial plan named in s.
func changeRules(s *directory.Snapshot, v Verb, name string, p Params) error {
	dp, err := s.DialPlan(name)
	if err != nil {
		return err
	}
	list, listName, err := pickList(dp, p)
	if err != nil {
		return err
	}
	group, mask := stringParam(p, "name"), stringParam(p, "mask")
	switch v {
	case RuleAdd:
		for _, need := range []string{"name", "mask", "dialed"} {
			if stringParam(p, need) == "" {
				return &ParamError{Param: need, Err: errors.New("is required by dialplan rule add")}
			}
		}
		*list = append(*list, directory.DialingRuleGroup{Name: group, NumberMask: mask, DialedNumber: stringParam(p, "dialed"), Comment: stringParam(p, "comment")})
	case RuleRemove:
		if group == "" {
			return &ParamError{Param: "name", Err: errors.New("is required by dialplan rule remove")}
		}
		n := len(*list)
		*list = slices.DeleteFunc(*list, func(r directory.DialingRuleGroup) bool {
			return directory.SameName(r.Name, group) && (mask == "" || strings.EqualFold(r.NumberMask, mask))
		})
		if len(*list) == n {
			what := "no rule of group " + group
			if mask != "" {
				what += " with mask " + mask
			}
			return fmt.Errorf("dialplan %s has %s among its %s rules", name, what, listName)
		}
	case RuleImport:
		file := stringParam(p, "file")
		if file == "" {
			file = "csv"
		}
		rules, err := ReadRulesCSV(file, strings.NewReader(strings.Join(p["csv"], "\n")))
		if err != nil {
			return err
		}
		*list = directory.List[directory.DialingRuleGroup](rules)
	}
	return nil
}

// pickList returns the list in-country or international names, and its name.
func pickList(dp *directory.DialPlan, p Params) (*directory.List[directory.DialingRuleGroup], string, error) {
	in, err := boolParam(p, "in-country")
	if err != nil {
		return nil, "", err
	}
	intl, err := boolParam(p, "international")
	if err != nil {
		return nil, "", err
	}
	switch {
	case in && intl:
		return nil, "", errors.New("--in-country and --international exclude each other: say which rules")
	case in:
		return &dp.ConfiguredInCountryOrRegionGroups, InCountryList, nil
	case intl:
		return &dp.ConfiguredInternationalGroups, InternationalList, nil
	}
	return nil, "", errors.New("--in-country or --international: one is needed, to say which rules")
}

// ReadRulesCSV reads and checks the rules of the CSV rows of file: every
// wrong row is reported, with file and its line, in one error.
func ReadRulesCSV(file string, in io.Reader) ([]directory.DialingRuleGroup, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord, r.Comment, r.TrimLeadingSpace = -1, '#', true
	var rules []directory.DialingRuleGroup
	var lines []int
	type lineErr struct {
		line int
		err  error
	}
	var errs []lineErr
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err) // csv names the line
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rules) == 0 && len(errs) == 0 && strings.EqualFold(strings.Join(rec, ","), "Name,NumberMask,DialedNumber,Comment") {
			continue
		}
		if len(rec) < 3 || len(rec) > 4 {
			errs = append(errs, lineErr{line, fmt.Errorf("%d fields, want Name,NumberMask,DialedNumber[,Comment]", len(rec))})
			continue
		}
		g := directory.DialingRuleGroup{Name: rec[0], NumberMask: rec[1], DialedNumber: rec[2]}
		if len(rec) == 4 {
			g.Comment = rec[3]
		}
		rules, lines = append(rules, g), append(lines, line)
	}
	for _, e := range directory.CheckRules(rules) {
		errs = append(errs, lineErr{lines[e.Index], e})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b lineErr) int { return a.line - b.line })
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = fmt.Errorf("%s: line %d: %w", file, e.line, e.err)
		}
		return nil, errors.Join(joined...)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s: no rules (an empty list refuses every number: remove the rules instead if that is meant)", file)
	}
	return rules, nil
}

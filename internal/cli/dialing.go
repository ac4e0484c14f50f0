package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/ops"
)

// dialPlanCommand is "openum dialplan": the noun's new, get, set and
// remove, and the dialing rules (rule, test-number).
func (a *app) dialPlanCommand() *cobra.Command {
	cmd := a.nounCommand(ops.DialPlans)
	rule := &cobra.Command{Use: "rule", Short: "A dial plan's dialing rules: Name,NumberMask,DialedNumber,Comment, in-country/region or international"}
	rule.AddCommand(a.ruleAddCommand(), a.ruleRemoveCommand(), a.ruleListCommand(), a.ruleImportCommand())
	cmd.AddCommand(rule, a.testNumberCommand())
	return cmd
}

// ruleLists binds --in-country and --international; pick returns the list
// they name in a dial plan, exactly one being required when need is set.
type ruleLists struct{ inCountry, international bool }

func bindRuleLists(cmd *cobra.Command) *ruleLists {
	l := &ruleLists{}
	cmd.Flags().BoolVar(&l.inCountry, "in-country", false, "the in-country/region rules (ConfiguredInCountryOrRegionGroups)")
	cmd.Flags().BoolVar(&l.international, "international", false, "the international rules (ConfiguredInternationalGroups)")
	cmd.MarkFlagsMutuallyExclusive("in-country", "international")
	return l
}

const (
	inCountryList     = "InCountryOrRegion"
	internationalList = "International"
)

// pick returns the list named by the flags and its name.
func (l *ruleLists) pick(dp *directory.DialPlan) (*directory.List[directory.DialingRuleGroup], string, error) {
	switch {
	case l.inCountry:
		return &dp.ConfiguredInCountryOrRegionGroups, inCountryList, nil
	case l.international:
		return &dp.ConfiguredInternationalGroups, internationalList, nil
	}
	return nil, "", errors.New("--in-country or --international: one is needed, to say which rules")
}

// ruleRow is one rule as rule list prints it.
type ruleRow struct {
	List string
	directory.DialingRuleGroup
}

// printRules prints the rules of dp: those of one list, or both.
func (a *app) printRules(s *directory.Snapshot, name string, only string) error {
	dp, err := s.DialPlan(name)
	if err != nil {
		return err
	}
	var rows []ruleRow
	for _, l := range []struct {
		name  string
		rules []directory.DialingRuleGroup
	}{{inCountryList, dp.ConfiguredInCountryOrRegionGroups}, {internationalList, dp.ConfiguredInternationalGroups}} {
		if only != "" && only != l.name {
			continue
		}
		for _, r := range l.rules {
			rows = append(rows, ruleRow{l.name, r})
		}
	}
	return printRows(a, rows, []string{"List", "Name", "NumberMask", "DialedNumber", "Comment"}, func(r *ruleRow) []string {
		return []string{r.List, r.Name, r.NumberMask, r.DialedNumber, r.Comment}
	})
}

// changeRules applies fn to the rule list the flags name, then prints it.
func (a *app) changeRules(cmd *cobra.Command, dpName string, lists *ruleLists, fn func(list *directory.List[directory.DialingRuleGroup], listName string) error) error {
	var listName string
	_, err := a.update(cmd, func(s *directory.Snapshot) error {
		dp, err := s.DialPlan(dpName)
		if err != nil {
			return err
		}
		list, name, err := lists.pick(dp)
		if err != nil {
			return err
		}
		listName = name
		return fn(list, name)
	})
	if err != nil {
		return err
	}
	s, err := a.snapshot(cmd)
	if err != nil {
		return err
	}
	return a.printRules(s, dpName, listName)
}

func (a *app) ruleAddCommand() *cobra.Command {
	var r directory.DialingRuleGroup
	cmd := &cobra.Command{
		Use:   "add DP --in-country|--international --name N --mask M --dialed D [--comment C]",
		Short: "Add a dialing rule to a dial plan (a rule with the name of others joins their group)",
		Args:  exactArgs("DP"),
	}
	lists := bindRuleLists(cmd)
	cmd.Flags().StringVar(&r.Name, "name", "", "the group the rule belongs to (required)")
	cmd.Flags().StringVar(&r.NumberMask, "mask", "", "digits, x for one digit, a trailing * for the rest (required)")
	cmd.Flags().StringVar(&r.DialedNumber, "dialed", "", "what is dialled: digits, x and * filled from the number, optionally after + (required)")
	cmd.Flags().StringVar(&r.Comment, "comment", "", "a note")
	for _, f := range []string{"name", "mask", "dialed"} {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.changeRules(cmd, args[0], lists, func(list *directory.List[directory.DialingRuleGroup], _ string) error {
			*list = append(*list, r)
			return nil
		})
	}
	return cmd
}

func (a *app) ruleRemoveCommand() *cobra.Command {
	var name, mask string
	cmd := &cobra.Command{
		Use:   "remove DP --in-country|--international --name N [--mask M]",
		Short: "Remove a dial plan's dialing rules of a group, or the one with a mask",
		Args:  exactArgs("DP"),
	}
	lists := bindRuleLists(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the group (required)")
	cmd.Flags().StringVar(&mask, "mask", "", "only the group's rule with this mask")
	_ = cmd.MarkFlagRequired("name")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.changeRules(cmd, args[0], lists, func(list *directory.List[directory.DialingRuleGroup], listName string) error {
			n := len(*list)
			*list = slices.DeleteFunc(*list, func(r directory.DialingRuleGroup) bool {
				return directory.SameName(r.Name, name) && (mask == "" || strings.EqualFold(r.NumberMask, mask))
			})
			if len(*list) == n {
				what := "no rule of group " + name
				if mask != "" {
					what += " with mask " + mask
				}
				return fmt.Errorf("dialplan %s has %s among its %s rules", args[0], what, listName)
			}
			return nil
		})
	}
	return cmd
}

func (a *app) ruleListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list DP [--in-country|--international]",
		Short: "List a dial plan's dialing rules, in the order they are listed (the first wins a tie)",
		Args:  exactArgs("DP"),
	}
	lists := bindRuleLists(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := a.snapshot(cmd)
		if err != nil {
			return err
		}
		only := ""
		if dp, err := s.DialPlan(args[0]); err == nil && (lists.inCountry || lists.international) {
			_, only, _ = lists.pick(dp)
		}
		return a.printRules(s, args[0], only)
	}
	return cmd
}

func (a *app) ruleImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import DP FILE.csv --in-country|--international",
		Short: "Replace a dial plan's in-country/region or international rules with a CSV file's rows: Name,NumberMask,DialedNumber[,Comment]",
		Long: `Replace a dial plan's in-country/region or international rules with the rows of a
CSV file, one rule a row, Name,NumberMask,DialedNumber[,Comment], in the order
they are to be listed. A first row Name,NumberMask,DialedNumber,Comment is a
header and skipped; lines starting with # are comments. The file is checked
as a whole: if one row is wrong, nothing is written and every wrong row is
named with its line number.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("%s takes a DP and a FILE.csv (got %d arguments)", cmd.CommandPath(), len(args))
			}
			return nil
		},
	}
	lists := bindRuleLists(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		rules, err := readRulesCSV(args[1])
		if err != nil {
			return err
		}
		return a.changeRules(cmd, args[0], lists, func(list *directory.List[directory.DialingRuleGroup], _ string) error {
			*list = directory.List[directory.DialingRuleGroup](rules)
			return nil
		})
	}
	return cmd
}

// readRulesCSV reads and checks the rules of a CSV file: every wrong row is
// reported, with its line, in one error.
func readRulesCSV(path string) ([]directory.DialingRuleGroup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
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
			return nil, fmt.Errorf("%s: %w", path, err) // csv names the line
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
			joined[i] = fmt.Errorf("%s: line %d: %w", path, e.line, e.err)
		}
		return nil, errors.Join(joined...)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s: no rules (an empty list refuses every number: remove the rules instead if that is meant)", path)
	}
	return rules, nil
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

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

// ruleCommand is "dialplan rule VERB DP": the rule operation of verb
// (ops, rules.go), here or on --server, printing the dial plan's rules
// after it (of the list the flags name, when they name one).
func (a *app) ruleCommand(v ops.Verb, use, short string, args cobra.PositionalArgs, required ...string) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, Annotations: remoteOK}
	params := bindParams(cmd, ops.RuleParams(v))
	cmd.MarkFlagsMutuallyExclusive("in-country", "international")
	for _, f := range required {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p := params()
		if v == ops.RuleImport {
			data, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			p["csv"], p["file"] = []string{string(data)}, []string{args[1]}
		}
		out, err := a.call(cmd, ops.Request{Verb: v, Kind: directory.KindDialPlan, Name: args[0], Params: p})
		if err != nil {
			return err
		}
		rows, ok := out.([]ops.RuleRow)
		if raw, remote := out.(json.RawMessage); remote {
			ok = json.Unmarshal(raw, &rows) == nil
		}
		if !ok {
			return fmt.Errorf("dialplan %s: the answer is no list of rules", ops.DialPlans.Use(v))
		}
		return a.printRules(rows, p)
	}
	return cmd
}

// printRules prints rules: those of the list --in-country or
// --international names, or both.
func (a *app) printRules(rules []ops.RuleRow, p ops.Params) error {
	only := ""
	if len(p["in-country"]) > 0 {
		only = ops.InCountryList
	} else if len(p["international"]) > 0 {
		only = ops.InternationalList
	}
	rows := slices.DeleteFunc(rules, func(r ops.RuleRow) bool { return only != "" && r.List != only })
	return printRows(a, rows, []string{"List", "Name", "NumberMask", "DialedNumber", "Comment"}, func(r *ops.RuleRow) []string {
		return []string{r.List, r.Name, r.NumberMask, r.DialedNumber, r.Comment}
	})
}

func (a *app) ruleAddCommand() *cobra.Command {
	return a.ruleCommand(ops.RuleAdd, "add DP --in-country|--international --name N --mask M --dialed D [--comment C]",
		"Add a dialing rule to a dial plan (a rule with the name of others joins their group)", exactArgs("DP"), "name", "mask", "dialed")
}

func (a *app) ruleRemoveCommand() *cobra.Command {
	return a.ruleCommand(ops.RuleRemove, "remove DP --in-country|--international --name N [--mask M]",
		"Remove a dial plan's dialing rules of a group, or the one with a mask", exactArgs("DP"), "name")
}

func (a *app) ruleListCommand() *cobra.Command {
	return a.ruleCommand(ops.Rules, "list DP [--in-country|--international]",
		"List a dial plan's dialing rules, in the order they are listed (the first wins a tie)", exactArgs("DP"))
}

func (a *app) ruleImportCommand() *cobra.Command {
	cmd := a.ruleCommand(ops.RuleImport, "import DP FILE.csv --in-country|--international",
		"Replace a dial plan's in-country/region or international rules with a CSV file's rows: Name,NumberMask,DialedNumber[,Comment]",
		func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("%s takes a DP and a FILE.csv (got %d arguments)", cmd.CommandPath(), len(args))
			}
			return nil
		})
	_ = cmd.Flags().MarkHidden("csv") // FILE.csv's rows and name
	_ = cmd.Flags().MarkHidden("file")
	cmd.Long = `Replace a dial plan's in-country/region or international rules with the rows of a
CSV file, one rule a row, Name,NumberMask,DialedNumber[,Comment], in the order
they are to be listed. A first row Name,NumberMask,DialedNumber,Comment is a
header and skipped; lines starting with # are comments. The file is checked
as a whole: if one row is wrong, nothing is written and every wrong row is
named with its line number.`
	return cmd
}

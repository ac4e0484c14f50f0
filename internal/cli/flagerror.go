package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagRules says, by pflag's type name, what a flag's value must be.
var flagRules = map[string]string{
	"int":      "a whole number",
	"int64":    "a whole number",
	"uint":     "a whole number from 0",
	"uint16":   "a whole number from 0 to 65535",
	"float64":  "a number",
	"duration": "a duration such as 30s, 5m or 1h",
	"bool":     "true or false",
}

// flagError words pflag's refusal of a flag's value (`invalid argument
// "abc" for "--id" flag: strconv.ParseInt: parsing "abc": invalid syntax`)
// the way the directory's own flags are refused: the flag, the value, the
// rule.
func flagError(_ *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	f := bad.GetFlag()
	rule, ok := flagRules[f.Value.Type()]
	if !ok {
		return err
	}
	return fmt.Errorf("--%s: %q is not %s", f.Name, bad.GetValue(), rule)
}

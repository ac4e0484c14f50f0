package ops

import (
	"strings"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
)

// operatorField is --operator-extension. It is the last of the dial plan's
// fields, so it is applied after the others a command sets and checked
// against the dial plan as that command leaves it: an extension, or a
// full number that one of its dialing rules matches (dialing.Operator).
func operatorField() field[directory.DialPlan] {
	return field[directory.DialPlan]{Param{"operator-extension", "string",
		"where 0 transfers a caller: an extension, or a full number a dialing rule matches; empty for none"},
		func(d *directory.DialPlan, v []string) error {
			d.OperatorExtension = strings.TrimSpace(last(v))
			if d.OperatorExtension == "" {
				return nil
			}
			_, err := dialing.Operator(d)
			return err
		}}
}

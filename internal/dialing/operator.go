package dialing

import (
	"errors"
	"fmt"

	"github.com/openum/openum/internal/directory"
)

// ErrNoOperator is Operator's error for a dial plan without
// OperatorExtension.
var ErrNoOperator = errors.New("dialing: the dial plan has no OperatorExtension")

// Operator returns the string dialled to reach dp's operator
// (OperatorExtension): an extension as it is, a full number as the dialing
// rule it matches builds it. The operator is the administrator's choice,
// not the caller's, so the allowed groups (who may dial what) do not
// apply; the rules do, since they are what the gateway understands.
func Operator(dp *directory.DialPlan) (string, error) {
	if dp.OperatorExtension == "" {
		return "", ErrNoOperator
	}
	n, err := Parse(dp, dp.OperatorExtension)
	if err != nil {
		return "", err
	}
	if n.Kind == Extension {
		return n.Match, nil
	}
	m, ok := MatchRule(Rules(dp, n.Kind), n.Match)
	if !ok {
		return "", fmt.Errorf("dialing: operator %s of dial plan %s, matched as %s, matches no %s dialing rule",
			dp.OperatorExtension, dp.Name, n.Match, n.Kind)
	}
	return m.DialString, nil
}

package dialing

import (
	"errors"
	"strings"
	"testing"
)

func TestOperator(t *testing.T) {
	dp := usDialPlan()
	for _, tc := range []struct{ operator, dial, err string }{
		{operator: "10000", dial: "10000"},              // an extension is dialled as it is
		{operator: "425 555 0100", dial: "95550100"},    // a full number as its rule builds it
		{operator: "+1 425 555 0100", dial: "95550100"}, // in E.164 too
		{operator: "555 0100", err: "matches no"},       // no rule: refused
		{operator: "12#45", err: "is not a telephone number"},
		{operator: "", err: ErrNoOperator.Error()},
	} {
		dp.OperatorExtension = tc.operator
		dial, err := Operator(&dp)
		switch {
		case tc.err == "" && (err != nil || dial != tc.dial):
			t.Errorf("Operator(%q) = %q, %v; want %q", tc.operator, dial, err, tc.dial)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Operator(%q) = %q, %v; want an error with %q", tc.operator, dial, err, tc.err)
		}
	}
	dp.OperatorExtension = ""
	if _, err := Operator(&dp); !errors.Is(err, ErrNoOperator) {
		t.Errorf("no operator: %v, want ErrNoOperator", err)
	}
}

package ops

import "errors"

// Refusal is an operation refused by one of its rules (a value, a policy,
// a missing name), as opposed to a store or the machine failing: the admin
// API answers a refusal to the client, a failure as a bare 500 with the
// detail in the event log. Errors of the directory's own types (a field,
// a name not found or taken) are refusals too; Refusal marks the rest.
type Refusal struct{ Err error }

func (e *Refusal) Error() string { return e.Err.Error() }

// Unwrap returns the rule's error, which may be of a type the API maps to
// its own status.
func (e *Refusal) Unwrap() error { return e.Err }

// refused marks err, if any, as a refusal by a rule.
func refused(err error) error {
	if err == nil {
		return nil
	}
	var r *Refusal
	if errors.As(err, &r) {
		return err
	}
	return &Refusal{Err: err}
}

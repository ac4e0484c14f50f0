package directory

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError reports a field value that breaks a rule. Its message is one
// line naming the object, the field and the rule.
type FieldError struct {
	Object Ref
	Field  string
	Rule   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s %s", e.Object, e.Field, e.Rule)
}

// NotFoundError reports a name that names no object of its kind.
type NotFoundError struct {
	Kind Kind
	Name string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q does not exist", e.Kind, e.Name)
}

// ExistsError reports a name already taken by an object of the same kind.
type ExistsError struct {
	Kind Kind
	Name string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s %q already exists (names are unique per kind, ignoring case)", e.Kind, e.Name)
}

// InUseError refuses to remove an object that others still refer to.
type InUseError struct {
	Object     Ref
	Dependants []Ref
}

func (e *InUseError) Error() string {
	deps := make([]string, len(e.Dependants))
	for i, d := range e.Dependants {
		deps[i] = d.String()
	}
	return fmt.Sprintf("%s is still used by %s (remove those first, or use --force to remove them too)",
		e.Object, strings.Join(deps, ", "))
}

// ErrSchemaTooNew is returned when a directory was written by a newer openum.
var ErrSchemaTooNew = errors.New("directory: the database was written by a newer openum; upgrade openum")

// ConflictError reports that another writer (another openum server or
// command) changed an object after an Update read it and before the Update
// could write its own change to it: nothing was written.
type ConflictError struct {
	Object Ref
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s was changed by another writer at the same time; nothing was written (run the command again)", e.Object)
}

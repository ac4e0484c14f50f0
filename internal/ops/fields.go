package ops

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Param is one parameter of an operation: on the command line the flag
// --Name, over the admin API the key Name of the request's JSON object.
type Param struct {
	Name  string
	Type  string // the flag's type, as --help shows it: string, int, bool, list...
	Usage string
}

// field binds one parameter, named by the Exchange parameter in
// kebab-case, to one field of an object of type T. new and set share the
// same fields. set reads every value given (a parameter may be repeated):
// the field decides what several mean (the last wins, or a list).
type field[T any] struct {
	Param
	set func(obj *T, values []string) error
}

// apply sets the fields of obj that p gives, in the fields' order (see
// operatorField for why the order matters).
func apply[T any](fields []field[T], obj *T, p Params) error {
	for _, f := range fields {
		if v, ok := p[f.Name]; ok && len(v) > 0 {
			if err := f.set(obj, v); err != nil {
				return &ParamError{Param: f.Name, Err: err}
			}
		}
	}
	return nil
}

func last(values []string) string { return values[len(values)-1] }

// valueField is a flag that takes one value, the last given: parse reads
// it, trimmed, into the field p points to.
func valueField[T, V any](flag, typ, usage string, parse func(string) (V, error), p func(*T) *V) field[T] {
	return field[T]{Param{flag, typ, usage}, func(obj *T, v []string) error {
		value, err := parse(strings.TrimSpace(last(v)))
		if err != nil {
			return err
		}
		*p(obj) = value
		return nil
	}}
}

func stringField[T any](flag, usage string, p func(*T) *string) field[T] {
	return valueField(flag, "string", usage, func(s string) (string, error) { return s, nil }, p)
}

func intField[T any](flag, usage string, p func(*T) *int) field[T] {
	return valueField(flag, "int", usage, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	}, p)
}

func boolField[T any](flag, usage string, p func(*T) *bool) field[T] {
	return valueField(flag, "bool", usage, func(s string) (bool, error) {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	}, p)
}

func enumField[T any, E ~string](flag string, values []E, p func(*T) *E) field[T] {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return valueField(flag, "string", strings.Join(names, "|"), func(s string) (E, error) {
		return directory.ParseEnum("value", s, values)
	}, p)
}

// listField takes a comma-separated list, the flag given once or repeated;
// an empty value clears the list.
func listField[T any](flag, usage string, p func(*T) *directory.List[string]) field[T] {
	return field[T]{Param{flag, "list", usage}, func(obj *T, v []string) error {
		var list directory.List[string]
		for _, s := range v {
			for _, item := range strings.Split(s, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
		}
		*p(obj) = list
		return nil
	}}
}

// groupsField takes dialing rule groups written as Exchange writes them,
// "Name,NumberMask,DialedNumber,Comment", one per occurrence of the flag;
// an empty value clears the list.
func groupsField[T any](flag string, p func(*T) *directory.List[directory.DialingRuleGroup]) field[T] {
	usage := `dialing rule group "Name,NumberMask,DialedNumber[,Comment]" (repeat for several)`
	return field[T]{Param{flag, "group", usage}, func(obj *T, v []string) error {
		var groups directory.List[directory.DialingRuleGroup]
		for _, s := range v {
			if strings.TrimSpace(s) == "" {
				continue
			}
			parts := strings.SplitN(s, ",", 4)
			if len(parts) < 3 {
				return fmt.Errorf("%q must be written Name,NumberMask,DialedNumber[,Comment]", s)
			}
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			g := directory.DialingRuleGroup{Name: parts[0], NumberMask: parts[1], DialedNumber: parts[2]}
			if len(parts) == 4 {
				g.Comment = parts[3]
			}
			groups = append(groups, g)
		}
		*p(obj) = groups
		return nil
	}}
}

func portRangeField[T any](flag, usage string, p func(*T) *directory.PortRange) field[T] {
	return valueField(flag, "first-last", usage, directory.ParsePortRange, p)
}

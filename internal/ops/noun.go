package ops

import (
	"slices"

	"github.com/openum/openum/internal/directory"
)

// Noun is one kind of directory object as an administrator handles it:
// its verbs, their parameters, and the columns a list shows.
type Noun interface {
	Kind() directory.Kind
	Short() string // what the objects are, for help
	Has(Verb) bool
	// Use is the verb as the command line says it (a mailbox is enabled
	// and disabled, not made and removed).
	Use(Verb) string
	Params(Verb) []Param // what the verb takes
	Required() []string  // the parameters new insists on
	Columns() []string   // the JSON keys a list shows as a table

	listAll(*directory.Snapshot) any
	getOne(*directory.Snapshot, string) (any, error)
	// doNew makes the object, returning a PIN it generated, if any.
	doNew(s *directory.Snapshot, name string, p Params) (pin string, err error)
	// doSet changes the object, returning its name after the change.
	doSet(env Env, s *directory.Snapshot, name string, p Params) (string, error)
	operatorParams() []string
}

// noun is a Noun whose objects are of type T, made with create and add
// and changed field by field.
type noun[T any] struct {
	kind     directory.Kind
	short    string
	verbs    []Verb
	uses     map[Verb]string  // the command line's word for a verb, when not the verb
	fields   []field[T]       // the parameters of new and set
	extra    map[Verb][]Param // parameters of a verb besides the fields
	required []string
	columns  []string
	operator []string // the parameters set takes from an operator
	create   func(name string, s *directory.Snapshot) T
	list     func(*directory.Snapshot) []T
	get      func(*directory.Snapshot, string) (*T, error)
	add      func(*directory.Snapshot, T) error
}

func (n *noun[T]) Kind() directory.Kind     { return n.kind }
func (n *noun[T]) Short() string            { return n.short }
func (n *noun[T]) Has(v Verb) bool          { return slices.Contains(n.verbs, v) }
func (n *noun[T]) Required() []string       { return n.required }
func (n *noun[T]) Columns() []string        { return n.columns }
func (n *noun[T]) operatorParams() []string { return n.operator }

func (n *noun[T]) Use(v Verb) string {
	if u, ok := n.uses[v]; ok {
		return u
	}
	return string(v)
}

func (n *noun[T]) Params(v Verb) []Param {
	var params []Param
	if v == New || v == Set {
		for _, f := range n.fields {
			params = append(params, f.Param)
		}
	}
	return append(params, n.extra[v]...)
}

func (n *noun[T]) listAll(s *directory.Snapshot) any {
	if all := n.list(s); all != nil {
		return all
	}
	return []T{} // an empty list, not null
}

func (n *noun[T]) getOne(s *directory.Snapshot, name string) (any, error) {
	obj, err := n.get(s, name)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

func (n *noun[T]) doNew(s *directory.Snapshot, name string, p Params) (string, error) {
	obj := n.create(name, s)
	if err := apply(n.fields, &obj, p); err != nil {
		return "", err
	}
	return "", n.add(s, obj)
}

func (n *noun[T]) doSet(_ Env, s *directory.Snapshot, name string, p Params) (string, error) {
	obj, err := n.get(s, name)
	if err != nil {
		return "", err
	}
	return name, apply(n.fields, obj, p)
}

// nouns are the directory's nouns, in the order help lists them.
var nouns = []Noun{DialPlans, Gateways, HuntGroups, Policies, Mailboxes, Servers}

// Nouns returns every noun.
func Nouns() []Noun { return slices.Clone(nouns) }

// Find returns the noun of kind.
func Find(kind directory.Kind) (Noun, error) {
	for _, n := range nouns {
		if n.Kind() == kind {
			return n, nil
		}
	}
	return nil, &UnsupportedError{Kind: kind}
}

func kindNames() []string {
	names := make([]string, len(nouns))
	for i, n := range nouns {
		names[i] = string(n.Kind())
	}
	return names
}

// Verbs are every verb, in the order the API's routes are made.
var Verbs = []Verb{List, Get, New, Set, Remove, Unlock, SetPIN, ResetPIN, Rules, RuleAdd, RuleRemove, RuleImport}

// every is the verbs of a noun an administrator makes and removes.
var every = []Verb{List, Get, New, Set, Remove}

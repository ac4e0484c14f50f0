// Package ops holds the operations an administrator performs on the
// directory, shared by the command line and the admin API: each noun's
// parameters (the CLI's flags, the API's JSON keys), how they are parsed
// and checked, and the one audited directory update each operation makes.
// The CLI and the API only carry a Request here and show what Do returns,
// so that no rule is written twice.
package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
)

// Params are an operation's named parameters: the flag names of the
// command line without "--", each with every value given, in order.
type Params map[string][]string

// Verb is what an operation does.
type Verb string

// The verbs. Not every noun has every verb (Noun.Has).
const (
	List   Verb = "list"   // every object of the noun
	Get    Verb = "get"    // one object
	New    Verb = "new"    // make an object
	Set    Verb = "set"    // change an object
	Remove Verb = "remove" // remove an object (Request.Force: and what refers to it)
	Unlock Verb = "unlock" // lift a mailbox's lock-out
)

// Request is one operation on one noun.
type Request struct {
	Verb   Verb
	Kind   directory.Kind
	Name   string // the object; "" for List, and for server set this machine's record
	Params Params
	Force  bool // Remove: also remove or detach everything that refers to it
}

// Env is what a Request runs against and on whose behalf.
type Env struct {
	Directory directory.Directory
	Actor     directory.Actor // written with the change in the audit log
	// UsableThumbprint checks a certificate thumbprint a server record is
	// to pin against the certificate store, returning it normalised; nil
	// refuses any pin (there is no store to check it against).
	UsableThumbprint func(thumbprint, fqdn string) (string, error)
}

// Removal is what Remove did.
type Removal struct {
	Changes []directory.Change
	Also    []directory.Ref // what was also removed, or changed to refer to it no more
}

// WithPIN is a mailbox and, the one time it is shown, the PIN openum
// generated for it.
type WithPIN struct {
	*directory.Mailbox
	PIN string `json:",omitempty"`
}

// ParamError is a parameter that is unknown, missing or has a value its
// field cannot take. Its message names the parameter as a flag.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return "--" + e.Param + ": " + e.Err.Error() }

// Unwrap returns the parse error, which may name a rule's error type.
func (e *ParamError) Unwrap() error { return e.Err }

// UnsupportedError is a noun that does not exist or lacks the verb.
type UnsupportedError struct {
	Kind directory.Kind
	Verb Verb // "" when the noun itself is unknown
}

func (e *UnsupportedError) Error() string {
	if e.Verb == "" {
		return fmt.Sprintf("ops: no such kind of object %q (%s)", e.Kind, strings.Join(kindNames(), ", "))
	}
	return fmt.Sprintf("ops: %s has no %s operation", e.Kind, e.Verb)
}

// Do runs r: it checks r's parameters, makes at most one audited update of
// env.Directory and returns what the operation shows: the object (or every
// object, for List) as it is after the change, or a *Removal.
func Do(ctx context.Context, env Env, r Request) (any, error) {
	n, err := Find(r.Kind)
	if err != nil {
		return nil, err
	}
	if !n.Has(r.Verb) {
		return nil, &UnsupportedError{Kind: r.Kind, Verb: r.Verb}
	}
	if err := check(n, r); err != nil {
		return nil, refused(err)
	}
	switch r.Verb {
	case List, Get, Rules:
		s, err := env.Directory.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if r.Verb == List {
			return n.listAll(s), nil
		}
		if r.Verb == Rules {
			return dialPlanRules(s, r.Name)
		}
		obj, err := n.getOne(s, r.Name)
		return obj, refused(err)
	case Remove:
		var also []directory.Ref
		changes, err := env.Directory.Update(ctx, env.Actor, func(s *directory.Snapshot) (err error) {
			also, err = s.Remove(n.Kind(), r.Name, r.Force)
			return refused(err)
		})
		if err != nil {
			return nil, err
		}
		return &Removal{Changes: changes, Also: also}, nil
	}
	var change logon.PINChange
	if r.Verb == SetPIN || r.Verb == ResetPIN {
		if change, err = pinChange(r.Verb, r.Params); err != nil {
			return nil, refused(err)
		}
	}
	name, pin := r.Name, ""
	_, err = env.Directory.Update(ctx, env.Actor, func(s *directory.Snapshot) (err error) {
		switch r.Verb {
		case New:
			pin, err = n.doNew(s, r.Name, r.Params)
		case Set:
			name, err = n.doSet(env, s, r.Name, r.Params)
		case Unlock:
			err = logon.Unlock(s, r.Name)
		case SetPIN, ResetPIN:
			pin, err = logon.SetPIN(s, r.Name, change)
		case RuleAdd, RuleRemove, RuleImport:
			err = changeRules(s, r.Verb, r.Name, r.Params)
		}
		// What the update's function refuses is a rule's refusal; what
		// Update fails at besides (reading, writing) is the store's.
		return refused(err)
	})
	if err != nil {
		return nil, err
	}
	s, err := env.Directory.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if r.Verb == RuleAdd || r.Verb == RuleRemove || r.Verb == RuleImport {
		return dialPlanRules(s, name)
	}
	obj, err := n.getOne(s, name)
	err = refused(err)
	if m, ok := obj.(*directory.Mailbox); ok && pin != "" {
		return &WithPIN{Mailbox: m, PIN: pin}, err
	}
	return obj, err
}

// check refuses a parameter the verb does not take and a missing one new
// requires.
func check(n Noun, r Request) error {
	params := n.Params(r.Verb)
	for name := range r.Params {
		if !slices.ContainsFunc(params, func(p Param) bool { return p.Name == name }) {
			return &ParamError{Param: name, Err: fmt.Errorf("%s %s takes no such parameter", n.Kind(), n.Use(r.Verb))}
		}
	}
	if r.Verb == New {
		for _, name := range n.Required() {
			if len(r.Params[name]) == 0 {
				return &ParamError{Param: name, Err: fmt.Errorf("is required by %s %s", n.Kind(), n.Use(r.Verb))}
			}
		}
	}
	if r.Name == "" && r.Verb != List && (r.Verb != Set || r.Kind != directory.KindServer) {
		return fmt.Errorf("ops: %s %s needs the object's name", n.Kind(), n.Use(r.Verb))
	}
	return nil
}

// Role is the least role that may run r over the admin API: readonly
// reads; operator also does what an operator does day to day (a gateway's
// status, unlocking a mailbox, as the web console offers); admin the rest.
func (r Request) Role() directory.AdminRole {
	switch r.Verb {
	case List, Get, Rules:
		return directory.RoleReadonly
	case Unlock:
		return directory.RoleOperator
	}
	if n, err := Find(r.Kind); err == nil && r.Verb == Set && len(r.Params) > 0 {
		operator := n.operatorParams()
		if !slices.ContainsFunc(mapKeys(r.Params), func(k string) bool { return !slices.Contains(operator, k) }) {
			return directory.RoleOperator
		}
	}
	return directory.RoleAdmin
}

// secretParams never reach the audit log with their values.
var secretParams = []string{"pin", "password"}

// Command is r written as the command line would, with secrets masked, for
// the audit log of a change made over the API.
func (r Request) Command() string {
	verb := string(r.Verb)
	var order []Param
	if n, err := Find(r.Kind); err == nil {
		verb, order = n.Use(r.Verb), n.Params(r.Verb)
	}
	return commandLine(string(r.Kind), verb, r.Name, order, r.Params, r.Force)
}

// commandLine writes an operation as the command line would, the
// parameters in order's order, secrets masked.
func commandLine(kind, verb, name string, order []Param, p Params, force bool) string {
	parts := []string{kind, verb}
	if name != "" {
		parts = append(parts, name)
	}
	for _, param := range order {
		for _, v := range p[param.Name] {
			if slices.Contains(secretParams, param.Name) {
				v = "******"
			}
			parts = append(parts, "--"+param.Name, v)
		}
	}
	if force {
		parts = append(parts, "--force")
	}
	return strings.Join(parts, " ")
}

func mapKeys(p Params) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	return keys
}

// errNoPin refuses a thumbprint where no certificate store can check it.
var errNoPin = errors.New("no certificate store here to check it against: pin it with openum server set on the server")

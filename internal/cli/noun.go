package cli

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/ops"
)

// The directory's nouns are commands over internal/ops: a command collects
// its flags into an ops.Request, runs it (a.call: here, or on --server)
// and prints what it returns.

// remoteOK marks a command that runs over the admin API with --server.
var remoteOK = map[string]string{"remote": "yes"}

// nounCommand returns "openum <noun>" with new, get, set and remove.
func (a *app) nounCommand(n ops.Noun) *cobra.Command {
	cmd := &cobra.Command{Use: string(n.Kind()), Short: n.Short()}
	cmd.AddCommand(
		a.newCommand(n, "NAME", "Create a "+string(n.Kind())),
		a.getCommand(n, "Show every "+string(n.Kind())+", or one"),
		a.setCommand(n, "NAME", "Change a "+string(n.Kind()), exactArgs("NAME")),
		a.removeCommand(n),
	)
	return cmd
}

// newCommand is "<noun> new NAME" (mailbox enable EMAIL).
func (a *app) newCommand(n ops.Noun, arg, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:         n.Use(ops.New) + " " + arg,
		Short:       short,
		Args:        exactArgs(arg),
		Annotations: remoteOK,
	}
	params := bindParams(cmd, n.Params(ops.New))
	for _, f := range n.Required() {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.callAndShow(cmd, ops.Request{Verb: ops.New, Kind: n.Kind(), Name: args[0], Params: params()})
	}
	return cmd
}

func (a *app) getCommand(n ops.Noun, short string) *cobra.Command {
	return &cobra.Command{
		Use:         "get [NAME]",
		Short:       short,
		Args:        cobra.MaximumNArgs(1),
		Annotations: remoteOK,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return a.callAndShow(cmd, ops.Request{Verb: ops.Get, Kind: n.Kind(), Name: args[0]})
			}
			if a.json && n.Kind() == directory.KindMailbox && a.remote.server == "" {
				return a.printMailboxesJSON(cmd.Context())
			}
			all, err := a.call(cmd, ops.Request{Verb: ops.List, Kind: n.Kind()})
			if err != nil {
				return err
			}
			objs, err := items(all)
			if err != nil {
				return err
			}
			return printList(a, objs, n.Columns())
		},
	}
}

// setCommand is "<noun> set NAME"; args says whether NAME is needed.
func (a *app) setCommand(n ops.Noun, arg, short string, args cobra.PositionalArgs) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "set " + arg,
		Short:       short,
		Args:        args,
		Annotations: remoteOK,
	}
	params := bindParams(cmd, n.Params(ops.Set))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		r := ops.Request{Verb: ops.Set, Kind: n.Kind(), Params: params()}
		if len(args) == 1 {
			r.Name = args[0]
		}
		return a.callAndShow(cmd, r)
	}
	return cmd
}

func (a *app) removeCommand(n ops.Noun) *cobra.Command {
	var force bool
	short := "Remove a " + string(n.Kind())
	if n.Use(ops.Remove) == "disable" { // a mailbox: its mail lives on, UM is what goes
		short = "UM-disable a " + string(n.Kind())
	}
	cmd := &cobra.Command{
		Use:         n.Use(ops.Remove) + " NAME",
		Short:       short,
		Args:        exactArgs("NAME"),
		Annotations: remoteOK,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := a.call(cmd, ops.Request{Verb: ops.Remove, Kind: n.Kind(), Name: args[0], Force: force})
			if err != nil {
				return err
			}
			done, ok := out.(*ops.Removal)
			if raw, remote := out.(json.RawMessage); remote {
				done = &ops.Removal{}
				ok = json.Unmarshal(raw, done) == nil
			}
			if !ok {
				return fmt.Errorf("%s %s: the answer is no removal", n.Kind(), n.Use(ops.Remove))
			}
			if a.json {
				return a.printJSON(done.Changes)
			}
			fmt.Fprintf(a.out, "removed %s %s\n", n.Kind(), args[0])
			for _, d := range done.Also {
				if d.Field != "" {
					fmt.Fprintf(a.out, "also changed %s %s: %s no longer lists %s\n", d.Kind, d.Name, d.Field, args[0])
				} else {
					fmt.Fprintf(a.out, "also removed %s\n", d)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "also remove (or detach) everything that refers to it")
	return cmd
}

// callAndShow runs r and prints the object it returns.
func (a *app) callAndShow(cmd *cobra.Command, r ops.Request) error {
	obj, err := a.call(cmd, r)
	if err != nil {
		return err
	}
	return a.show(obj)
}

// call runs r on the local directory, returning what ops.Do does, or on
// --server's, returning the JSON the admin API answers (json.RawMessage):
// both print alike.
func (a *app) call(cmd *cobra.Command, r ops.Request) (any, error) {
	if a.remote.server != "" {
		return a.remote.call(cmd.Context(), r)
	}
	dir, err := a.directory(cmd.Context())
	if err != nil {
		return nil, err
	}
	return ops.Do(cmd.Context(), ops.Env{Directory: dir, Actor: a.actor(), UsableThumbprint: usableIn(a.dataDir)}, r)
}

// items are the objects of a list call returns, each left as it is (a
// pointer into the local list, or its JSON), so that a long list is not
// copied or encoded whole once more.
func items(list any) ([]any, error) {
	if raw, ok := list.(json.RawMessage); ok {
		var objs []json.RawMessage
		if err := json.Unmarshal(raw, &objs); err != nil {
			return nil, err
		}
		out := make([]any, len(objs))
		for i := range objs {
			out[i] = objs[i]
		}
		return out, nil
	}
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("cli: a list is a %T", list)
	}
	out := make([]any, v.Len())
	for i := range out {
		out[i] = v.Index(i).Addr().Interface()
	}
	return out, nil
}

// show prints an object the operations return: JSON with --json, else one
// field a line, and a PIN openum generated (ops.WithPIN) once, apart.
func (a *app) show(obj any) error {
	if a.json {
		return a.printJSON(obj)
	}
	raw, ok := obj.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(obj); err != nil {
			return err
		}
	}
	var generated struct{ PIN string }
	_ = json.Unmarshal(raw, &generated)
	if err := a.printFields(jsonFields(raw), rawKeys(raw), "PIN"); err != nil {
		return err
	}
	if generated.PIN == "" {
		return nil
	}
	_, err := fmt.Fprintf(a.out, "PIN: %s (shown only this once; give it to the user)\n", generated.PIN)
	return err
}

// flagValue collects every occurrence of a flag; the operation decides
// what several occurrences mean (the last wins, or a list).
type flagValue struct {
	typ    string
	values []string
}

func (v *flagValue) String() string     { return strings.Join(v.values, ",") }
func (v *flagValue) Set(s string) error { v.values = append(v.values, s); return nil }
func (v *flagValue) Type() string       { return v.typ }

// bindParams adds a flag for each parameter to cmd and returns a function
// that collects those given on the command line.
func bindParams(cmd *cobra.Command, params []ops.Param) func() ops.Params {
	values := make([]*flagValue, len(params))
	for i, p := range params {
		values[i] = &flagValue{typ: p.Type}
		cmd.Flags().Var(values[i], p.Name, p.Usage)
		if p.Type == "bool" {
			cmd.Flags().Lookup(p.Name).NoOptDefVal = "true"
		}
	}
	return func() ops.Params {
		given := ops.Params{}
		for i, p := range params {
			if len(values[i].values) > 0 {
				given[p.Name] = values[i].values
			}
		}
		return given
	}
}

// exactArgs is cobra.ExactArgs(1) with an error that names the argument.
func exactArgs(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s takes exactly one %s (got %d: %s)", cmd.CommandPath(), name, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

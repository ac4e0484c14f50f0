package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/directory"
)

// noun describes one kind of directory object to the generic new, get, set
// and remove commands.
type noun[T any] struct {
	kind     directory.Kind
	short    string
	fields   []field[T]
	required []string // flags new insists on
	columns  []string // JSON keys shown by get without a name
	create   func(name string, s *directory.Snapshot) T
	list     func(*directory.Snapshot) []T
	get      func(*directory.Snapshot, string) (*T, error)
	add      func(*directory.Snapshot, T) error
}

// command returns "openum <noun>" with new, get, set and remove.
func (n noun[T]) command(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: string(n.kind), Short: n.short}
	cmd.AddCommand(n.newCommand(a), n.getCommand(a, ""), n.setCommand(a), n.removeCommand(a, "remove"))
	return cmd
}

func (n noun[T]) newCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a " + string(n.kind),
		Args:  exactArgs("NAME"),
	}
	apply := bindFields(cmd, n.fields)
	for _, f := range n.required {
		_ = cmd.MarkFlagRequired(f)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.change(cmd, func(s *directory.Snapshot) (string, error) {
			obj := n.create(args[0], s)
			if err := apply(&obj); err != nil {
				return "", err
			}
			return args[0], n.add(s, obj)
		}, n.show)
	}
	return cmd
}

func (n noun[T]) getCommand(a *app, what string) *cobra.Command {
	return &cobra.Command{
		Use:   "get [NAME]",
		Short: "Show every " + string(n.kind) + what + ", or one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return n.show(a, s, args[0])
			}
			return printList(a, n.list(s), n.columns)
		},
	}
}

// show prints one object: JSON with --json, else one field a line.
func (n noun[T]) show(a *app, s *directory.Snapshot, name string) error {
	obj, err := n.get(s, name)
	if err != nil {
		return err
	}
	return a.printOne(obj)
}

func (n noun[T]) setCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Change a " + string(n.kind),
		Args:  exactArgs("NAME"),
	}
	apply := bindFields(cmd, n.fields)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.change(cmd, func(s *directory.Snapshot) (string, error) {
			obj, err := n.get(s, args[0])
			if err != nil {
				return "", err
			}
			return args[0], apply(obj)
		}, n.show)
	}
	return cmd
}

func (n noun[T]) removeCommand(a *app, verb string) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   verb + " NAME",
		Short: "Remove a " + string(n.kind),
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var also []directory.Ref
			changes, err := a.update(cmd, func(s *directory.Snapshot) (err error) {
				also, err = s.Remove(n.kind, args[0], force)
				return err
			})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(changes)
			}
			fmt.Fprintf(a.out, "removed %s %s\n", n.kind, args[0])
			for _, d := range also {
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

// exactArgs is cobra.ExactArgs(1) with an error that names the argument.
func exactArgs(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s takes exactly one %s (got %d: %s)", cmd.CommandPath(), name, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

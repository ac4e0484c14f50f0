package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/openum/openum/internal/ops"
)

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printOne prints one object: JSON with --json, else a "Field : value" line
// per field, in declaration order, as Exchange's Format-List does.
func (a *app) printOne(obj any) error {
	if a.json {
		return a.printJSON(obj)
	}
	return a.printFields(jsonFields(obj), fieldOrder(obj))
}

// printFields prints a "Field : value" line for each key of order that
// fields has, but those of skip.
func (a *app) printFields(fields map[string]json.RawMessage, order []string, skip ...string) error {
	w := tabwriter.NewWriter(a.out, 0, 4, 1, ' ', 0)
	for _, key := range order {
		if v, ok := fields[key]; ok && !slices.Contains(skip, key) {
			fmt.Fprintf(w, "%s\t: %s\n", key, plain(v))
		}
	}
	return w.Flush()
}

// rawKeys lists the keys of a JSON object in the order they are written:
// for an object the operations return, its fields' declaration order.
func rawKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// printList prints objects: a JSON array with --json, else a table of the
// given columns.
func printList[T any](a *app, objs []T, columns []string) error {
	return printRows(a, objs, columns, func(obj *T) []string {
		fields := jsonFields(obj)
		cells := make([]string, len(columns))
		for j, c := range columns {
			cells[j] = plain(fields[c])
		}
		return cells
	})
}

// printRows prints objects: a JSON array with --json (empty, not null, when
// there are none), else a table with columns for header and row's cells.
func printRows[T any](a *app, objs []T, header []string, row func(*T) []string) error {
	if a.json {
		return printJSONList(a.out, objs)
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for i := range objs {
		fmt.Fprintln(w, strings.Join(row(&objs[i]), "\t"))
	}
	return w.Flush()
}

// printJSONList writes objs as printJSON writes the list, byte for byte,
// but one object at a time through a buffer, so that a list of a hundred
// thousand mailboxes is never held twice more as JSON. One encoder writes
// every object into one buffer, so that each reuses the memory of the last.
func printJSONList[T any](out io.Writer, objs []T) error {
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetIndent("  ", "  ")
	return writeJSONList(out, len(objs), func(i int) ([]byte, error) {
		one.Reset()
		err := enc.Encode(&objs[i])
		return bytes.TrimSuffix(one.Bytes(), []byte("\n")), err
	})
}

// printMailboxesJSON is get --json of every mailbox of the local
// directory: the mailboxes alone, read as json.Marshal writes them
// (ops.MailboxesJSON), each indented as printJSONList would encode it,
// without decoding it into a Mailbox and encoding it again.
func (a *app) printMailboxesJSON(ctx context.Context) error {
	dir, err := a.directory(ctx)
	if err != nil {
		return err
	}
	objs, err := ops.MailboxesJSON(ctx, ops.Env{Directory: dir})
	if err != nil {
		return err
	}
	var one bytes.Buffer
	return writeJSONList(a.out, len(objs), func(i int) ([]byte, error) {
		one.Reset()
		err := json.Indent(&one, objs[i], "  ", "  ")
		return one.Bytes(), err
	})
}

// writeJSONList writes a JSON array of n objects, the ith as item returns
// it (indented, no newline after), through a buffer: [] when n is 0.
func writeJSONList(out io.Writer, n int, item func(i int) ([]byte, error)) error {
	if n == 0 {
		_, err := io.WriteString(out, "[]\n")
		return err
	}
	w := bufio.NewWriterSize(out, 64<<10)
	w.WriteString("[\n")
	for i := range n {
		b, err := item(i)
		if err != nil {
			return err
		}
		w.WriteString("  ")
		w.Write(b)
		if i < n-1 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	w.WriteString("]\n")
	return w.Flush()
}

func jsonFields(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

// fieldOrder lists the JSON keys of a struct in declaration order.
func fieldOrder(obj any) []string {
	t := reflect.TypeOf(obj)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for _, f := range reflect.VisibleFields(t) {
		if f.IsExported() && f.Tag.Get("json") != "-" {
			keys = append(keys, f.Name)
		}
	}
	return keys
}

// plain renders a JSON value for a table: strings bare, lists joined with
// commas, objects as compact JSON.
func plain(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case []any:
		items := make([]string, len(v))
		for i, item := range v {
			b, _ := json.Marshal(item)
			items[i] = plain(b)
		}
		return strings.Join(items, ", ")
	case map[string]any:
		return string(raw)
	}
	return string(raw)
}

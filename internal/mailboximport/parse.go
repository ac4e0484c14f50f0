// Package mailboximport UM-enables many mailboxes from one CSV file
// (openum mailbox import, SPEC OPS-5): the file is judged as a whole by the
// directory's own rules, the PINs are generated and hashed on all cores,
// and the mailboxes are written in one directory update, or none is.
package mailboximport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// Columns are the columns a file must have, named in its header row in
// any order (names ignore case).
var Columns = []string{"EmailAddress", "DisplayName", "Extension", "DialPlan", "Policy"}

// Row is one mailbox of the file and the line it is on.
type Row struct {
	Line    int
	Mailbox directory.Mailbox
}

// RowError is what is wrong with the row on Line.
type RowError struct {
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// Parse reads a CSV file: a header row naming Columns, then one mailbox a
// row; lines that begin with # are comments. Rows that cannot be read are
// returned as RowErrors, to be reported with the others; a file without a
// sound header is an error.
func Parse(r io.Reader) ([]Row, []*RowError, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // a short row is a RowError, not the end of the file
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("mailboximport: the file is empty: it needs a header row " + strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("mailboximport: header: %w", err)
	}
	col, err := columns(header)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	var bad []*RowError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			bad = append(bad, &RowError{Line: perr.StartLine, Err: perr.Err})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("mailboximport: %w", err)
		}
		if len(rec) != len(header) {
			bad = append(bad, &RowError{Line: line, Err: fmt.Errorf("has %d fields, the header %d", len(rec), len(header))})
			continue
		}
		field := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		rows = append(rows, Row{Line: line, Mailbox: directory.Mailbox{
			EmailAddress:    field("EmailAddress"),
			DisplayName:     field("DisplayName"),
			UMDialPlan:      field("DialPlan"),
			UMMailboxPolicy: field("Policy"),
			Extensions:      directory.List[string]{field("Extension")},
			PINExpired:      true, // as mailbox enable: the user chooses a PIN at first logon
		}})
	}
	if len(rows) == 0 && len(bad) == 0 {
		return nil, nil, errors.New("mailboximport: the file has a header but no mailbox")
	}
	return rows, bad, nil
}

// columns maps each of Columns to its index in header.
func columns(header []string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a spreadsheet's byte order mark
		for _, c := range Columns {
			if strings.EqualFold(h, c) {
				if _, dup := col[c]; dup {
					return nil, fmt.Errorf("mailboximport: header: column %s is named twice", c)
				}
				col[c] = i
			}
		}
	}
	for _, c := range Columns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("mailboximport: header: column %s is missing (the header row names %s)", c, strings.Join(Columns, ","))
		}
	}
	return col, nil
}

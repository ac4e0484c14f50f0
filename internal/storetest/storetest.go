// Package storetest holds what the tests of every storage engine (the
// directory's, the message store's; SQLite, PostgreSQL) share.
package storetest

import (
	"context"
	"io"
	"testing"
)

// Open opens the store at addr (a file, a URL: what open takes) as one more
// openum process would, for tb, and closes it when tb ends; tb fails when
// it cannot be opened.
func Open[S io.Closer](tb testing.TB, open func(ctx context.Context, addr string) (S, error), addr string) S {
	tb.Helper()
	s, err := open(context.Background(), addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

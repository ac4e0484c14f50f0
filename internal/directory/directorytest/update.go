package directorytest

import (
	"context"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// Update changes d with fn as the user "test", failing t on an error; a
// test's server that follows d through w (nil for none) is made to follow
// at once, as openum serve's watch does within a second.
func Update(t testing.TB, d directory.Directory, w *directory.Watcher, fn func(*directory.Snapshot) error) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Update(ctx, directory.Actor{User: "test"}, fn); err != nil {
		t.Fatal(err)
	}
	if w != nil {
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

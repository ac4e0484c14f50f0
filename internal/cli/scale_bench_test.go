package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/sqlite"
)

// countingWriter counts what is written to it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkMailboxGetJSON is `openum mailbox get --json` of the scale
// benchmark's 100,000 mailboxes on SQLite, the whole command as a new
// process runs it, reading the directory included (go test -run '^$'
// -bench MailboxGetJSON -benchtime 3x ./internal/cli).
func BenchmarkMailboxGetJSON(b *testing.B) {
	data := b.TempDir()
	dir, err := sqlite.Open(context.Background(), filepath.Join(data, "directory.db"))
	if err != nil {
		b.Fatal(err)
	}
	directorytest.SeedScale(b, dir)
	dir.Close()
	var took []time.Duration
	for b.Loop() {
		var out countingWriter
		var errs bytes.Buffer
		start := time.Now()
		if code := Main([]string{"--data", data, "mailbox", "get", "--json"}, &out, &errs); code != 0 {
			b.Fatalf("exit %d: %s", code, errs.String())
		}
		took = append(took, time.Since(start))
		b.ReportMetric(float64(out.n)/directorytest.ScaleMailboxes, "B/mailbox")
	}
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	b.ReportMetric((sum / time.Duration(len(took))).Seconds(), "s/get")
}

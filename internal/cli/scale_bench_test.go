package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/directorytest"
	"github.com/openum/openum/internal/directory/postgres"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/pgtest"
)

// countingWriter counts what is written to it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkMailboxGetJSON is `openum mailbox get --json` of the scale
// benchmark's 100,000 mailboxes on SQLite, the whole command as a new
// process runs it, reading the directory included (go test -run '^$'
// -bench MailboxGetJSON -benchtime 3x ./internal/cli; the sub-benchmarks
// are the engines). It reports the time each took (s/get) and the CPU
// time (cpu-s/get), which a machine busy with other work does not
// stretch; on PostgreSQL that is openum's alone, not the server's.
func BenchmarkMailboxGetJSON(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		data := b.TempDir()
		dir, err := sqlite.Open(context.Background(), filepath.Join(data, "directory.db"))
		if err != nil {
			b.Fatal(err)
		}
		benchGetJSON(b, dir, "--data", data)
	})
	b.Run("PostgreSQL", func(b *testing.B) {
		url := pgtest.Server(b)
		if _, err := postgres.Migrate(context.Background(), url); err != nil {
			b.Fatal(err)
		}
		dir, err := postgres.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		benchGetJSON(b, dir, "--data", b.TempDir(), "--directory", url)
	})
}

// benchGetJSON seeds dir, closes it, and runs get --json of every mailbox
// with the flags of args that name it.
func benchGetJSON(b *testing.B, dir directory.Directory, args ...string) {
	directorytest.SeedScale(b, dir)
	dir.Close()
	var took, cpu []time.Duration
	for b.Loop() {
		var out countingWriter
		var errs bytes.Buffer
		start, startCPU := time.Now(), cpuTime()
		if code := Main(append(args, "mailbox", "get", "--json"), &out, &errs); code != 0 {
			b.Fatalf("exit %d: %s", code, errs.String())
		}
		took, cpu = append(took, time.Since(start)), append(cpu, cpuTime()-startCPU)
		b.ReportMetric(float64(out.n)/directorytest.ScaleMailboxes, "B/mailbox")
	}
	mean := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return (sum / time.Duration(len(ds))).Seconds()
	}
	b.ReportMetric(mean(took), "s/get")
	b.ReportMetric(mean(cpu), "cpu-s/get")
}

// cpuTime is the CPU time, user and system, this process has spent.
func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

package directorytest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
)

// Scale is the size of the scale benchmark: the directory of a large
// organisation.
const (
	ScaleMailboxes = 100000
	ScalePlans     = 100
)

// BenchmarkScale measures a directory of ScaleMailboxes mailboxes over
// ScalePlans dial plans, opened by open as each openum process opens it
// (a command, a server). It reports:
//
//   - enable-p50-ms, enable-p99-ms: mailbox enable besides hashing the PIN,
//     one Update adding a mailbox with its PIN hash, then the Snapshot that
//     shows it (as BenchmarkMailboxEnable);
//   - reload-ms, reload-cpu-ms: from one process's change to another's
//     Watcher handing on the new configuration, and the CPU time (user and
//     system, of this process) that the Watcher's Check spent on it;
//   - heap-B/mailbox: the heap a server's handle and its Watcher's
//     configuration hold, per mailbox;
//   - snapshot-us: a Snapshot of the server's handle when nothing changed,
//     as a logon asks for one every call.
func BenchmarkScale(b *testing.B, open func(testing.TB) directory.Directory) {
	ctx := context.Background()
	writer := open(b)
	SeedScale(b, writer)

	// The server: a handle and its watcher, measured before anything else
	// allocates. Two collections free what a finalizer held on to, which
	// one leaves counted.
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	server := open(b)
	w := directory.NewWatcher(server)
	if _, err := w.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / ScaleMailboxes
	var seen *directory.Snapshot
	w.Subscribe(func(_ context.Context, s *directory.Snapshot) error { seen = s; return nil })

	var enable, reload, reloadCPU, snapshot []time.Duration
	next := ScaleMailboxes
	for b.Loop() {
		m := scaleMailbox(next)
		next++
		start := time.Now()
		if err := enableMailbox(ctx, writer, m); err != nil {
			b.Fatal(err)
		}
		enable = append(enable, time.Since(start))

		cpu := cpuTime()
		if err := w.Check(ctx); err != nil {
			b.Fatal(err)
		}
		reloadCPU = append(reloadCPU, cpuTime()-cpu)
		reload = append(reload, time.Since(start))
		if _, err := seen.Mailbox(m.EmailAddress); err != nil {
			b.Fatalf("the watcher did not hand on the new mailbox: %v", err)
		}

		start = time.Now()
		if _, err := server.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		snapshot = append(snapshot, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(quantile(enable, 0.5), "enable-p50-ms")
	b.ReportMetric(quantile(enable, 0.99), "enable-p99-ms")
	b.ReportMetric(quantile(reload, 0.5), "reload-ms")
	b.ReportMetric(quantile(reloadCPU, 0.5), "reload-cpu-ms")
	b.ReportMetric(heap, "heap-B/mailbox")
	b.ReportMetric(quantile(snapshot, 0.5)*1000, "snapshot-us")
}

// SeedScale fills d with ScaleMailboxes mailboxes over ScalePlans dial
// plans, a policy each, in a few Updates.
func SeedScale(tb testing.TB, d directory.Directory) {
	tb.Helper()
	ctx := context.Background()
	_, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error { return addPlans(s, ScalePlans) })
	if err != nil {
		tb.Fatal(err)
	}
	const chunk = 20000
	for first := 0; first < ScaleMailboxes; first += chunk {
		_, err := d.Update(ctx, Admin, func(s *directory.Snapshot) error {
			for i := first; i < min(first+chunk, ScaleMailboxes); i++ {
				if err := s.AddMailbox(scaleMailbox(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// scaleMailbox is mailbox i of the scale benchmark, with a display name;
// addresses sort as i.
func scaleMailbox(i int) directory.Mailbox {
	m := benchMailbox(i, ScalePlans)
	m.DisplayName = fmt.Sprintf("User %d", i)
	return m
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// quantile returns the q quantile of took in milliseconds.
func quantile(took []time.Duration, q float64) float64 {
	took = slices.Sorted(slices.Values(took))
	return float64(took[int(q*float64(len(took)-1))]) / float64(time.Millisecond)
}

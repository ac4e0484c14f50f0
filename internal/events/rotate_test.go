package events

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// openLog opens the log at path as OpenWith does, and closes it when the
// test ends.
func openLog(tb testing.TB, path string, rot Rotation) *Log {
	tb.Helper()
	l, err := OpenWith(path, rot)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// Logs on one path stand for processes (the server and CLI commands):
// each has its own open files, so they meet only at the flock, as
// processes do.
func TestRotationAcrossWritersKeepsEveryLineWholeAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	rot := Rotation{FileSize: 1024, Files: 8}
	var logs [4]*Log
	for i := range logs {
		l, err := OpenWith(path, rot)
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	const writers, each = 2, 300 // 300 KB in all: a rotation every 6 records
	var wg sync.WaitGroup
	for li, l := range logs {
		for w := range writers {
			wg.Go(func() {
				for seq := range each {
					l.Emit(context.Background(), PeerRefused, "peer refused",
						slog.Int("Writer", li*writers+w), slog.Int("Seq", seq), slog.String("Pad", "0123456789abcdef0123456789abcdef"))
				}
			})
		}
	}
	wg.Wait()
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}

	files, err := filepath.Glob(path + "*")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	logFiles := 0
	for _, name := range files {
		st := peertest.CheckPerm(t, name, 0o600)
		if name == path+".lock" {
			continue
		}
		logFiles++
		total += st.Size()
		if st.Size() > rot.FileSize {
			t.Errorf("%s: %d bytes, above the cap of %d", name, st.Size(), rot.FileSize)
		}
		// A file is rotated only when the next record would not fit: one
		// rotated nearly empty means two writers rotated at once.
		if longest := checkWholeLines(t, name); name != path && st.Size() < rot.FileSize-longest {
			t.Errorf("%s: rotated with %d bytes, room left for a record", name, st.Size())
		}
	}
	if logFiles != rot.Files || total > rot.FileSize*int64(rot.Files) {
		t.Fatalf("%d files, %d bytes; want %d files and at most %d bytes", logFiles, total, rot.Files, rot.FileSize*int64(rot.Files))
	}

	// What is kept is the newest part of one global order: for each
	// writer, a run of sequence numbers without gap or repeat that ends
	// with its last record.
	recs, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 40 {
		t.Fatalf("only %d records kept", len(recs))
	}
	next := map[int]int{}
	for _, r := range recs {
		w, seq := int(r.Attrs["Writer"].(float64)), int(r.Attrs["Seq"].(float64))
		if want, seen := next[w]; seen && seq != want {
			t.Fatalf("writer %d: record %d follows %d", w, seq, want-1)
		}
		next[w] = seq + 1
	}
	for w, n := range next {
		if n != each {
			t.Errorf("writer %d: last record read is %d, want %d", w, n-1, each-1)
		}
	}
}

// checkWholeLines fails the test if a line of the file is not a whole
// JSON record, and returns the length of the longest, newline included.
func checkWholeLines(t *testing.T, name string) int64 {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var longest int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("%s: torn line %q", name, sc.Text())
		}
		longest = max(longest, int64(len(sc.Bytes())+1))
	}
	return longest
}

// A writer whose file another writer rotated away writes to the new file,
// not to the renamed one nor to one deleted since.
func TestRotationByAnotherWriterIsFollowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	rot := Rotation{FileSize: 1024, Files: 3}
	a, b := openLog(t, path, rot), openLog(t, path, rot)
	ctx := context.Background()
	a.Emit(ctx, TLSCertificateInUse, "a", slog.Int("N", 0))
	// b's records are large: each rotates, so a's file, rotated out and
	// then dropped, still has room for a's next record.
	for i := range 5 {
		b.Emit(ctx, TLSCertificateInUse, "b", slog.Int("N", i), slog.String("Pad", strings.Repeat("x", 600)))
	}
	a.Emit(ctx, TLSCertificateInUse, "a", slog.Int("N", 1))
	recs, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if last := recs[len(recs)-1]; last.Message != "a" || last.Attrs["N"] != float64(1) {
		t.Fatalf("last record %+v; want a's second", last)
	}
}

func TestRotationDropsOldestAndReadsOldestFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	l, err := OpenWith(path, Rotation{FileSize: 1, Files: 3}) // every record in a file of its own
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		l.Emit(context.Background(), TLSCertificateInUse, "r", slog.Int("N", i))
	}
	l.Close()
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 kept beyond 3 files: %v", path, err)
	}
	recs, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, r := range recs {
		got = append(got, r.Attrs["N"].(float64))
	}
	if len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 4 {
		t.Fatalf("records %v; want [2 3 4]", got)
	}
}

// A busy writer, which keeps the lock between its records, still lets
// another in once lockHold is over: b's record is written while a goes on
// writing without a pause (so that a never stops being busy, which would
// give the lock back too), and neither loses a record.
func TestBusyWriterLetsAnotherIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	rot := Rotation{FileSize: 1 << 30, Files: 1} // no record rotated out
	a, b := openLog(t, path, rot), openLog(t, path, rot)
	ctx := context.Background()
	busy, bDone := make(chan struct{}), make(chan struct{})
	aWrote := make(chan int) // a's records, or -1 if b was still waiting after 2 s (200 times lockHold)
	go func() {
		deadline := time.Now().Add(2 * time.Second)
		for n := 0; time.Now().Before(deadline); n++ {
			select {
			case <-bDone:
				aWrote <- n
				return
			default:
			}
			a.Emit(ctx, TLSCertificateInUse, "a", slog.Int("N", n))
			if n == 10 {
				close(busy)
			}
		}
		a.Close() // so that b, still waiting, gets in and the test says why
		aWrote <- -1
	}()
	<-busy
	b.Emit(ctx, TLSCertificateInUse, "b")
	close(bDone)
	n := <-aWrote
	if n < 0 {
		t.Fatal("b's record waited 2 s for a busy writer")
	}
	recs, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 {
		t.Fatalf("%d records; want a's %d and b's", len(recs), n)
	}
}

// A writer that is not busy (a CLI command's one event) gives the flock
// back with its record; a busy one keeps it after its records, and the
// timer gives it back once the writer stops.
func TestOnlyABusyWriterKeepsTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	l := openLog(t, path, Rotation{})
	other, err := os.Open(path + ".lock") // another process's
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	free := func() bool {
		if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return false
		}
		_ = syscall.Flock(int(other.Fd()), syscall.LOCK_UN)
		return true
	}
	ctx := context.Background()
	l.Emit(ctx, TLSCertificateInUse, "one")
	if !free() {
		t.Fatal("the flock is still held after a lone record")
	}
	kept := false
	for range 100 { // two records less than busyGap apart, however loaded the machine
		l.Emit(ctx, TLSCertificateInUse, "busy")
		l.Emit(ctx, TLSCertificateInUse, "busy")
		if kept = !free(); kept {
			break
		}
	}
	if !kept {
		t.Fatal("a busy writer never kept the flock")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !free() {
		if time.Now().After(deadline) {
			t.Fatal("the flock was not given back after the writer stopped")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkEmit is one event appended by a busy writer, the cost a call
// set-up pays for its "call admitted" (SPEC PERF-2).
func BenchmarkEmit(b *testing.B) {
	l := openLog(b, filepath.Join(b.TempDir(), "events.log"), Rotation{})
	ctx := context.Background()
	for i := range b.N {
		l.Emit(ctx, CallAdmitted, "call admitted", slog.String("callid", "bench"), slog.Int("N", i))
	}
}

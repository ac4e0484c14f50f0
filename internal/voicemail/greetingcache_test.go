package voicemail

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
)

// Calls playing one custom greeting share one copy of it (PERF-4: 48 KiB
// a call): a 60 s greeting is 960 KB, and each call read its own. Once
// the last call is done with it, nothing keeps it. The heap a call takes
// counts its share of the one copy, 1/calls of it.
func TestConcurrentCallsShareOneGreeting(t *testing.T) {
	const calls = 200
	a := &Answering{Greetings: t.TempDir()}
	const email = "popular@example.test"
	if err := a.saveGreeting(email, chirp(60, 500)); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	played := make([][]int16, calls)
	releases := make([]func(), calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { played[i], releases[i] = a.greeting(email) })
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	perCall := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / calls
	t.Logf("%d calls holding a 60 s greeting: %d bytes of heap a call, %d beyond its share of the copy",
		calls, perCall, perCall-60*media.SampleRate*2/calls)
	if perCall > 48<<10/4 {
		t.Errorf("%d bytes of heap a call holding the greeting; want well under 48 KiB", perCall)
	}
	for i, pcm := range played {
		if len(pcm) != 60*media.SampleRate || &pcm[0] != &played[0][0] || cap(pcm) != len(pcm) {
			t.Fatalf("call %d: %d samples (cap %d), its own copy: %v; want the one shared copy of 60 s", i, len(pcm), cap(pcm), &pcm[0] != &played[0][0])
		}
	}
	for _, release := range releases {
		release()
	}
	if held(a.greetingPath(email)) {
		t.Error("the greeting is kept once no call plays it")
	}
}

// A greeting file that is not a WAVE plays the default greeting, and is
// not kept.
func TestBadGreetingPlaysTheDefault(t *testing.T) {
	t.Parallel()
	a := &Answering{Greetings: t.TempDir()}
	path := a.greetingPath("bad@example.test")
	if err := os.WriteFile(path, []byte("not a WAVE"), 0o600); err != nil {
		t.Fatal(err)
	}
	pcm, release := a.greeting("bad@example.test")
	release()
	if def := Prompt("greeting"); &pcm[0] != &def[0] {
		t.Error("a bad greeting file did not play the default greeting")
	}
	if held(path) {
		t.Error("a bad greeting file is kept")
	}
}

// held reports whether the cache keeps the greeting at path.
func held(path string) bool {
	greetings.mu.Lock()
	defer greetings.mu.Unlock()
	return greetings.held[path] != nil
}

// A greeting re-recorded while a caller is still hearing the old one is
// the one the next caller hears; the first finishes the old one.
func TestReRecordedGreetingIsPlayedByTheNextCall(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, nil)
	var err error
	if e.a.Spool, err = delivery.OpenSpool(filepath.Join(e.dir, "spool")); err != nil {
		t.Fatal(err)
	}
	old := chirp(90, 500) // long enough to last the re-recording
	if err := e.a.saveGreeting("alice@example.test", old); err != nil {
		t.Fatal(err)
	}
	first := e.dial("+15559999", "12345", nil)
	first.expectPCM("the start of the old greeting", old[:media.SampleRate])

	recorded, err := e.recordGreeting(t)
	if err != nil {
		t.Fatal(err)
	}

	next := e.dial("+15558888", "12345", nil)
	next.expectPCM("the re-recorded greeting", recorded)
	next.expectPCM("the tone", beep())
	next.hangUp()
	next.ended(5 * time.Second)
	select {
	case <-first.handled:
		t.Fatal("the first call ended before the re-recorded greeting was heard; it should still be in the old one")
	default:
	}
	first.expectPCM("more of the old greeting", old[media.SampleRate:2*media.SampleRate])
	first.hangUp()
	first.ended(5 * time.Second)
}

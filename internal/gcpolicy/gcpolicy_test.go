package gcpolicy

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFallsAsTheServerHoldsMore(t *testing.T) {
	const MiB = 1 << 20
	for _, c := range []struct {
		scanned uint64
		want    int
	}{
		{0, 200},         // nothing read yet
		{3 * MiB, 200},   // a quiet server: collections every 6 MiB at least
		{12 * MiB, 200},  // the last at Max
		{13 * MiB, 180},  // 184, rounded down
		{24 * MiB, 100},  // Go's own default
		{48 * MiB, 50},   // some 1,700 calls in progress
		{60 * MiB, 50},   // 2,000: never below Min
		{6000 * MiB, 50}, // far past: still Min
	} {
		if got := Default.Percent(c.scanned); got != c.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", c.scanned/MiB, got, c.want)
		}
	}
}

// TestRunFollowsTheLiveHeap holds 64 MiB, lets the policy see it, then
// drops it: the target falls to Min, then comes back up once a
// collection has seen the heap shrink.
func TestRunFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p := Policy{Max: 300, Min: 60, Headroom: 32 << 20} // Max below 10.6 MiB, Min above 53
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()

	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	runtime.GC()
	go func() { p.Run(ctx, 10*time.Millisecond); close(done) }()
	waitForPercent(t, 60, "holding 64 MiB")
	runtime.KeepAlive(held)

	held = nil
	runtime.GC()
	waitForPercent(t, 300, "after the 64 MiB were dropped")
}

func waitForPercent(t *testing.T, want int, when string) {
	t.Helper()
	current := func() int {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	deadline := time.Now().Add(5 * time.Second)
	for current() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: GC percent %d, want %d", when, current(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

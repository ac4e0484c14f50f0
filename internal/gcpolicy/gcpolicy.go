// Package gcpolicy moves the garbage collector's target (GOGC) with what
// the server holds. Two goals pull it apart: answering a call allocates
// some 26 KiB that die with its set-up, so on the few MB a quiet server
// holds a high target keeps collections rare (SPEC PERF-2); but each
// call in progress holds some 29 KiB of heap and stack, and the heap
// grows by the target's share of that before each collection, so at 200
// a server with 2,000 calls up was resident at 75 KiB a call (PERF-4:
// 48). A fixed target serves one or the other; this one keeps the
// headroom between collections near a fixed size instead, within bounds.
package gcpolicy

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Policy is a target that falls as what the collector scans grows.
type Policy struct {
	// Max is the target while the server holds little: the collector
	// runs when the heap has grown by Max % of what it scans.
	Max int
	// Min is the lowest target, however much the server holds: below
	// about 50 the collector runs so often that it costs more CPU than
	// the memory it saves is worth.
	Min int
	// Headroom is the growth, in bytes, allowed between collections
	// while the target is between Min and Max.
	Headroom uint64
}

// Default is openum serve's policy: 200 while the server scans less than
// 12 MiB, 24 MiB of growth between collections from there, and never
// less than half of what it scans (from 48 MiB on, about 1,700 calls in
// progress). A server answering calls allocates about 26 KiB a set-up,
// so it collects no more often than every ~300 set-ups (Go's smallest
// heap, 4 MiB, at 200), and with 2,000 calls up it is resident at about
// 1.5 times their 29 KiB (bench/load.sh 2000: 36 KiB a call, against 85
// at a fixed 200).
var Default = Policy{Max: 200, Min: 50, Headroom: 24 << 20}

// Percent is the target for a server whose collector scans scanned bytes
// (the live heap, the goroutine stacks and the globals), rounded down to
// a multiple of 10 so that small changes do not move it.
func (p Policy) Percent(scanned uint64) int {
	if scanned == 0 {
		return p.Max
	}
	percent := int(min(p.Headroom*100/scanned, uint64(p.Max)))
	return max(percent/10*10, p.Min)
}

// Run sets the collector's target to p's for what it scans now, then
// again every interval, until ctx is done.
func (p Policy) Run(ctx context.Context, interval time.Duration) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	applied := -1
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		metrics.Read(samples)
		var scanned uint64
		for _, s := range samples {
			if s.Value.Kind() == metrics.KindUint64 {
				scanned += s.Value.Uint64()
			}
		}
		if percent := p.Percent(scanned); percent != applied {
			debug.SetGCPercent(percent)
			applied = percent
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

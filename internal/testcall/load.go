package testcall

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/openum/openum/internal/media"
)

// LoadOptions shape a load run.
type LoadOptions struct {
	Calls    int           // concurrent calls
	Rate     float64       // calls started per second
	Duration time.Duration // how long each call streams audio
}

// LoadReport sums up a load run. Set-up times are in milliseconds.
type LoadReport struct {
	Calls, Established, Failed int
	Failures                   map[string]int // how many calls failed for each reason
	FirstFailure               string         `json:",omitempty"` // the reason of the call that failed first
	SetupP50, SetupP99         float64
	PacketsSent                int
	Seconds                    float64
}

// Load places o.Calls calls, started at o.Rate per second, each streaming
// a tone for o.Duration and then hanging up. Every call leaves a voice
// message, as real callers would.
func (t *Target) Load(ctx context.Context, o LoadOptions) *LoadReport {
	r := &LoadReport{Calls: o.Calls, Failures: map[string]int{}}
	caller, err := t.caller()
	if err != nil {
		r.Failed, r.Failures[err.Error()], r.FirstFailure = o.Calls, o.Calls, err.Error()
		return r
	}
	defer caller.Close()
	pcm := tone(o.Duration)
	var mu sync.Mutex
	var setups []float64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.Calls {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))))
		wg.Go(func() {
			call, err := caller.Call(ctx, t.phone, t.mediaSecured)
			mu.Lock()
			if err != nil {
				if r.Failed == 0 {
					r.FirstFailure = err.Error()
				}
				r.Failed++
				r.Failures[err.Error()]++
				mu.Unlock()
				return
			}
			r.Established++
			setups = append(setups, float64(call.Setup.Microseconds())/1000)
			mu.Unlock()
			call.Audio.Sink(media.Discard) // the greeting: dropped as it comes
			go func() {
				for range call.Audio.Received() {
				}
			}()
			_ = call.Audio.Play(ctx, pcm)
			_ = call.Hangup(context.WithoutCancel(ctx))
			mu.Lock()
			r.PacketsSent += len(pcm) / media.FrameSamples
			mu.Unlock()
		})
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	slices.Sort(setups)
	if n := len(setups); n > 0 {
		r.SetupP50, r.SetupP99 = setups[n/2], setups[min(n-1, n*99/100)]
	}
	return r
}

// tone is d of a 440 Hz tone at the media sample rate.
func tone(d time.Duration) []int16 {
	pcm := make([]int16, int(d.Seconds()*media.SampleRate))
	for i := range pcm {
		pcm[i] = int16(4000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	return pcm
}

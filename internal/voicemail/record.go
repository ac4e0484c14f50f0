package voicemail

import (
	"context"
	"time"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
)

// listen hands what the caller says to write, in timestamp order, until
// they press keyEnd or hang up, stay silent for the dial plan's
// RecordingIdleTimeout, limit passes since started, or write fails. It
// returns why it stopped and how many of the samples written to keep:
// none if the caller said nothing, else all up to a breath after the last
// word, not the dead air before they hung up, pressed # or fell silent
// (all of them when limit cut them off mid-word).
//
// The audio comes from a media.Capture, taken at each tick: the loop wakes
// four times a second, not for each of the caller's fifty packets (a
// silence or the limit is noticed within 250 ms; a quarter second of
// audio is what the capture holds for the taking).
//
// listen's frame is the one a recording call waits in, for minutes, on
// top of the call's others (sip's hold, HandleCall, the state machine's):
// the work between waits is in recording's methods, so that the frames
// waiting stay under the quarter of 8 KiB below which the collector
// halves a goroutine's stack, and 2,000 calls recorded hold 2,000 stacks
// of 4 KiB, not of 8.
func listen(ctx context.Context, call *sip.Call, now func() time.Time, started time.Time, limit time.Duration, write func([]int16) error) (keep int, stop stopReason, err error) {
	r := newRecording(call, now, started, limit, write)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	received := call.Audio.Received()
	for stop == "" {
		select {
		case <-ctx.Done():
			stop = stopHangUp
		case in, ok := <-received:
			stop = keyStop(in, ok)
		case <-tick.C:
			stop, err = r.tick()
		}
	}
	return r.end(stop, err)
}

// recording is what listen keeps between its waits.
type recording struct {
	capture   *media.Capture
	now       func() time.Time
	started   time.Time
	limit     time.Duration
	idle      time.Duration // the dial plan's RecordingIdleTimeout
	write     func([]int16) error
	lastVoice time.Time
	written   int // samples
	voiced    int // samples released when the last loud frame came
}

func newRecording(call *sip.Call, now func() time.Time, started time.Time, limit time.Duration, write func([]int16) error) *recording {
	idle := time.Duration(call.DialPlan.RecordingIdleTimeout) * time.Second
	return &recording{
		capture: call.Audio.Capture(5*media.FrameSamples, uint32(idle.Seconds())*media.SampleRate, loud),
		now:     now, started: started, limit: limit, idle: idle, write: write, lastVoice: started,
	}
}

// keyStop returns why what the caller's stream delivered stops the
// recording, or "" when it does not.
func keyStop(in media.Received, ok bool) stopReason {
	switch {
	case !ok:
		return stopHangUp
	case in.Digit == keyEnd:
		return stopHash
	}
	return ""
}

// tick writes the audio captured since the last tick, and returns why the
// recording stops, or "".
func (r *recording) tick() (stopReason, error) {
	if err := r.capture.Take(r.take); err != nil {
		return stopWriteError, err
	}
	switch t := r.now(); {
	case t.Sub(r.lastVoice) >= r.idle:
		return stopSilence, nil
	case t.Sub(r.started) >= r.limit:
		return stopMaxDuration, nil
	}
	return "", nil
}

// take is the capture's Take function: it writes pcm.
func (r *recording) take(pcm []int16, loudEnd int) error {
	if loudEnd != r.voiced {
		r.lastVoice, r.voiced = r.now(), loudEnd
	}
	r.written += len(pcm)
	return r.write(pcm)
}

// end stops the capture, writes what it still held, and returns what
// listen returns.
func (r *recording) end(stop stopReason, err error) (keep int, _ stopReason, _ error) {
	if rest, loudEnd := r.capture.Stop(); err == nil {
		err = r.take(rest, loudEnd)
	}
	switch {
	case r.voiced == 0:
		return 0, stop, err
	case stop == stopMaxDuration:
		return r.written, stop, err
	}
	return min(r.written, r.voiced+media.SampleRate/4), stop, err
}

// loud reports whether a frame is voice, for RecordingIdleTimeout: whether
// its RMS is voiceLevel or more, reckoned in integers, without a square
// root (it runs for every packet recorded).
func loud(pcm []int16) bool {
	var energy int64
	for _, v := range pcm {
		energy += int64(v) * int64(v)
	}
	return energy >= voiceLevel*voiceLevel*int64(max(len(pcm), 1))
}

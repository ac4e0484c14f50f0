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
func listen(ctx context.Context, call *sip.Call, now func() time.Time, started time.Time, limit time.Duration, write func([]int16) error) (keep int, stop stopReason, err error) {
	idle := time.Duration(call.DialPlan.RecordingIdleTimeout) * time.Second
	capture := call.Audio.Capture(5*media.FrameSamples, uint32(idle.Seconds())*media.SampleRate, loud)
	lastVoice, written, voiced := started, 0, 0
	take := func(pcm []int16, loudEnd int) error {
		if loudEnd != voiced {
			lastVoice, voiced = now(), loudEnd
		}
		written += len(pcm)
		return write(pcm)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			stop = stopHangUp
			break loop
		case r, ok := <-call.Audio.Received():
			switch {
			case !ok:
				stop = stopHangUp
				break loop
			case r.Digit == keyEnd:
				stop = stopHash
				break loop
			}
		case <-tick.C:
			if err = capture.Take(take); err != nil {
				stop = stopWriteError
				break loop
			}
			switch t := now(); {
			case t.Sub(lastVoice) >= idle:
				stop = stopSilence
			case t.Sub(started) >= limit:
				stop = stopMaxDuration
			default:
				continue
			}
			break loop
		}
	}
	if rest, loudEnd := capture.Stop(); err == nil {
		err = take(rest, loudEnd)
	}
	switch {
	case voiced == 0:
		return 0, stop, err
	case stop == stopMaxDuration:
		return written, stop, err
	}
	return min(written, voiced+media.SampleRate/4), stop, err
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

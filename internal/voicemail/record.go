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
func listen(ctx context.Context, call *sip.Call, now func() time.Time, started time.Time, limit time.Duration, write func([]int16) error) (keep int, stop stopReason, err error) {
	idle := time.Duration(call.DialPlan.RecordingIdleTimeout) * time.Second
	timeline := media.NewTimeline(5*media.FrameSamples, uint32(idle.Seconds())*media.SampleRate)
	lastVoice, written, voiced := started, 0, 0
	push := func(pcm []int16) error {
		written += len(pcm)
		return write(pcm)
	}
	tick := time.NewTicker(100 * time.Millisecond)
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
			case r.PCM == nil:
				continue
			}
			if err = push(timeline.Push(r.Timestamp, r.PCM)); err != nil {
				stop = stopWriteError
				break loop
			}
			if rms(r.PCM) >= voiceLevel {
				lastVoice, voiced = now(), written+len(r.PCM)
			}
		case <-tick.C:
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
	if err == nil {
		err = push(timeline.Flush())
	}
	switch {
	case voiced == 0:
		return 0, stop, err
	case stop == stopMaxDuration:
		return written, stop, err
	}
	return min(written, voiced+media.SampleRate/4), stop, err
}

package voicemail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
)

// record records the caller into memory until they press keyEnd or hang
// up, stay silent for the dial plan's RecordingIdleTimeout, or limit
// passes; trailing silence is cut off, and a recording without a word is
// empty. A greeting lasts minutes at most (MaxGreetingDuration, 10 at
// most: 9.6 MB), and is kept only once the caller says so: memory, not a
// file that a hang-up would leave behind.
func (m *accessCall) record(ctx context.Context, limit time.Duration) ([]int16, stopReason) {
	idle := time.Duration(m.call.DialPlan.RecordingIdleTimeout) * time.Second
	timeline := media.NewTimeline(5*media.FrameSamples, uint32(idle.Seconds())*media.SampleRate)
	started := m.now()
	lastVoice, voiced := started, 0
	var pcm []int16
	var stop stopReason
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			stop = stopHangUp
			break loop
		case r, ok := <-m.call.Audio.Received():
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
			pcm = append(pcm, timeline.Push(r.Timestamp, r.PCM)...)
			if rms(r.PCM) >= voiceLevel {
				lastVoice, voiced = m.now(), len(pcm)+len(r.PCM)
			}
		case <-tick.C:
			switch now := m.now(); {
			case now.Sub(lastVoice) >= idle:
				stop = stopSilence
			case now.Sub(started) >= limit:
				stop = stopMaxDuration
			default:
				continue
			}
			break loop
		}
	}
	pcm = append(pcm, timeline.Flush()...)
	if voiced == 0 {
		return nil, stop
	}
	if stop != stopMaxDuration {
		pcm = pcm[:min(len(pcm), voiced+media.SampleRate/4)] // a breath after the last word
	}
	return pcm, stop
}

// saveGreeting makes pcm the mailbox's personal greeting, the one greeting
// plays to callers, in one atomic replacement: a caller hears the old
// greeting or the new one, never a part.
func (a *Answering) saveGreeting(email string, pcm []int16) error {
	if a.Greetings == "" {
		return errors.New("voicemail: no greetings directory")
	}
	if err := os.MkdirAll(a.Greetings, 0o700); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	path := filepath.Join(a.Greetings, delivery.MaildirName(email)+".wav")
	if err := atomicfile.WriteFile(path, media.EncodeWAV(pcm), 0o600); err != nil {
		return fmt.Errorf("voicemail: greeting of %s: %w", email, err)
	}
	return nil
}

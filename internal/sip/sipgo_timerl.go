package sip

// A work-around for a leak in sipgo v1.7.3, in this one place.
//
// sipgo starts an INVITE server transaction's Timer L (RFC 6026, 64×T1 =
// 32 s) when the 2xx goes out, and ServerTx.delete stops every timer but
// that one. The timer's closure keeps the whole transaction reachable for
// those 32 s after the call was answered: the INVITE, the 2xx and its SDP,
// the headers, about 7 KiB. At 5,000 set-ups a second that is 1.1 GB of
// heap, and the collector marks it over and over. Over TCP and TLS sipgo
// ends the transaction once its handler returns (no INVITE is
// retransmitted on a reliable transport), so nothing waits for Timer L
// there: openum ends the transaction itself and stops the timer.
//
// sipgo keeps the timer and its lock unexported, so they are reached by
// their offsets, found by name and type once. Should a sipgo upgrade rename
// or retype them, releaseAnsweredInvite does nothing and
// TestAnsweredInviteIsReleased fails; once sipgo stops timer_l in delete
// itself, delete this file and its call in guard.

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/emiago/sipgo/sip"
)

// serverTxTimerL holds the offsets of sip.ServerTx's timer_l and of the
// mutex that guards it, or ok false when sipgo's layout is not the one
// this file knows.
var serverTxTimerL = func() (f struct {
	timer, mu uintptr
	ok        bool
}) {
	t := reflect.TypeFor[sip.ServerTx]()
	timer, okTimer := fieldOffset(t, "timer_l", reflect.TypeFor[*time.Timer]())
	mu, okMu := fieldOffset(t, "mu", reflect.TypeFor[sync.Mutex]())
	f.timer, f.mu, f.ok = timer, mu, okTimer && okMu
	return f
}()

// fieldOffset returns the offset in t of the field called name, embedded
// fields' included, when it has type want.
func fieldOffset(t reflect.Type, name string, want reflect.Type) (uintptr, bool) {
	f, ok := t.FieldByName(name)
	if !ok || f.Type != want {
		return 0, false
	}
	var off uintptr
	for i := range f.Index {
		off += t.FieldByIndex(f.Index[:i+1]).Offset
	}
	return off, true
}

// releaseAnsweredInvite ends an INVITE's server transaction whose handler
// has returned, when it came over a reliable transport (as sipgo would at
// once), and stops its Timer L so that the transaction can be collected.
func releaseAnsweredInvite(tx sip.ServerTransaction) {
	stx, ok := tx.(*sip.ServerTx)
	if !ok || !serverTxTimerL.ok || !sip.IsReliable(stx.Origin().Transport()) {
		return
	}
	stx.Terminate()
	timer, mu := timerL(stx)
	mu.Lock()
	if *timer != nil {
		(*timer).Stop()
		*timer = nil
	}
	mu.Unlock()
}

// timerL returns where stx keeps its Timer L, and the mutex that guards it.
func timerL(stx *sip.ServerTx) (**time.Timer, *sync.Mutex) {
	base := unsafe.Pointer(stx)
	return (**time.Timer)(unsafe.Add(base, serverTxTimerL.timer)), (*sync.Mutex)(unsafe.Add(base, serverTxTimerL.mu))
}

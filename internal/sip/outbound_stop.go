package sip

// The server's own calls when it stops (Shutdown): it places no new one,
// cancels those still ringing (CANCEL) and hangs up those answered (BYE),
// and waits for them to end before it closes the connections their
// requests go over. Unlike an answered inbound call, whose caller is
// leaving a message the drain lets them finish, an outcall is the
// server's own doing (Play on Phone): it can be placed again on a server
// that runs. Message waiting's NOTIFYs are not calls: they go on while the
// server drains, so that the messages its last calls leave light the
// lamp, and end with it.

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStopping is Outcall's error once the server's Shutdown has begun:
// nothing was dialled; wrapped, when the call was ringing and Shutdown
// cancelled it. Outcall.Err reports it for an answered call Shutdown hung
// up.
var ErrStopping = errors.New("sip: the server is stopping: it places no new calls")

// stopHangupWait bounds the BYE of an answered outcall hung up by Shutdown:
// a gateway that does not answer it holds the stop no longer.
const stopHangupWait = 5 * time.Second

// ownCalls is the calls the server placed, ringing or answered, and the
// signal that ends them when it stops. The zero value is ready.
type ownCalls struct {
	byDialog sync.Map // dialog ID → placedCall, answered calls, for their gateway's BYE

	mu       sync.Mutex
	stopped  bool
	stopping context.Context // done, cause ErrStopping, when Shutdown begins
	stop     context.CancelCauseFunc
	busy     sync.WaitGroup // the calls begun and not yet ended
}

func (o *ownCalls) initLocked() {
	if o.stopping == nil {
		o.stopping, o.stop = context.WithCancelCause(context.Background())
	}
}

// begin counts a call until done is called (once it has ended) and returns
// the context to set it up in: ctx, also cancelled with cause ErrStopping
// when the server stops. A stopping server refuses it with ErrStopping.
func (o *ownCalls) begin(ctx context.Context) (setup context.Context, stopping context.Context, done func(), err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return nil, nil, nil, ErrStopping
	}
	o.initLocked()
	o.busy.Add(1)
	setup, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(o.stopping, func() { cancel(ErrStopping) })
	return setup, o.stopping, sync.OnceFunc(func() {
		unhook()
		cancel(nil)
		o.busy.Done()
	}), nil
}

// shutdown refuses new calls, cancels those ringing and hangs up those
// answered, then waits until they have ended or ctx is done.
func (o *ownCalls) shutdown(ctx context.Context) {
	o.mu.Lock()
	o.stopped = true
	o.initLocked()
	o.stop(ErrStopping)
	o.mu.Unlock()
	ended := make(chan struct{})
	go func() {
		o.busy.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-ctx.Done():
	}
}

// keep holds an answered call until it ends, however it ends: when the
// server stops first, it hangs the call up. Then done is called.
func keep(out *Outcall, stopping context.Context, done func()) {
	unhook := context.AfterFunc(stopping, func() {
		out.stopped.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), stopHangupWait)
		defer cancel()
		_ = out.Hangup(ctx)
	})
	context.AfterFunc(out.ctx, func() {
		unhook()
		done()
	})
}

// Err is nil unless the server ended the call itself: ErrStopping once
// Shutdown hung it up.
func (o *Outcall) Err() error {
	if o.stopped.Load() {
		return ErrStopping
	}
	return nil
}

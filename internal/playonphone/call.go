package playonphone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
)

// call places the call, plays pcm for at most the budget's minutes and
// reports its length to the budget. The budget is spent once the call has
// its place among the server's calls, so that a call the full server
// refuses spends none.
func (s *Service) call(ctx context.Context, res Result, r Request, snap *directory.Snapshot, dp *directory.DialPlan, box *directory.Mailbox, pcm []int16) (Result, error) {
	ring := r.RingFor
	if ring <= 0 {
		ring = DefaultRingFor
	}
	rctx, cancel := context.WithTimeout(ctx, ring)
	defer cancel()
	req := sip.OutcallRequest{DialPlan: dp.Name, Number: res.DialString, Purpose: dialing.ForOutcall, Mailbox: box.EmailAddress, RequestedBy: r.By}
	if len(box.Extensions) > 0 {
		req.From = box.Extensions[0] // the phone shows whose voice mail calls
	}
	var left time.Duration
	var budgetErr error
	req.Admit = func() error {
		left, budgetErr = s.startBudget(ctx, snap, box)
		return budgetErr
	}
	out, err := s.Dialer.Outcall(rctx, req)
	var over *dialing.Refusal
	var full *sip.FullError
	switch {
	case errors.As(budgetErr, &over):
		return s.refuse(ctx, res, over.Reason, over.Detail)
	case budgetErr != nil:
		return Result{}, budgetErr
	case errors.As(err, &full):
		return s.refuse(ctx, res, dialing.ServerFull, full.Error())
	case err != nil:
		res = outcome(res, err, rctx.Err() != nil && ctx.Err() == nil, ring)
		return res, &Error{res}
	}
	answered := s.now()
	res.Played = msgstore.Duration(play(ctx, out, pcm, left))
	_ = out.Hangup(context.WithoutCancel(ctx))
	length := s.now().Sub(answered)
	res.Outcome = Answered
	switch message := time.Duration(res.Length); {
	case time.Duration(res.Played) >= message:
		res.Detail = fmt.Sprintf("played the whole message (%s) on %s", message.Round(time.Millisecond), res.Number)
	case time.Duration(res.Played) >= left:
		res.Detail = fmt.Sprintf("cut after %s: the outcall budget's minutes ran out", time.Duration(res.Played).Round(time.Millisecond))
	default:
		res.Detail = fmt.Sprintf("the phone hung up after %s of %s", time.Duration(res.Played).Round(time.Millisecond), message.Round(time.Millisecond))
	}
	if err := dialing.EndCall(context.WithoutCancel(ctx), s.Ledger, s.now(), s.Server, box.EmailAddress, length); err != nil {
		return res, err
	}
	return res, nil
}

// play sends pcm into the call until it ends, the phone hangs up, left
// runs out or ctx is done, and returns how much it played.
func play(ctx context.Context, out *sip.Outcall, pcm []int16, left time.Duration) time.Duration {
	pctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	go func() {
		select {
		case <-out.Done():
			cancel()
		case <-pctx.Done():
		}
	}()
	start := time.Now()
	if err := out.Audio.Play(pctx, pcm); err == nil {
		return time.Duration(len(pcm)) * time.Second / media.SampleRate
	}
	return time.Since(start)
}

// outcome reads Outcall's error: the called number's answer, ringing out
// (rangOut: the ring time, not the caller, ended it), or a gateway failure.
func outcome(res Result, err error, rangOut bool, ring time.Duration) Result {
	var rejected *sip.RejectedError
	switch {
	case errors.As(err, &rejected):
		res.Status = rejected.Status
		switch rejected.Status {
		case 486, 600:
			res.Outcome, res.Detail = Busy, fmt.Sprintf("%s is busy (%d %s)", res.Number, rejected.Status, rejected.Reason)
		case 408, 480, 487:
			res.Outcome, res.Detail = NoAnswer, fmt.Sprintf("%s did not answer (%d %s)", res.Number, rejected.Status, rejected.Reason)
		default:
			res.Outcome, res.Detail = Rejected, fmt.Sprintf("the call to %s was refused: %d %s", res.Number, rejected.Status, rejected.Reason)
		}
	case rangOut:
		res.Outcome, res.Detail = NoAnswer, fmt.Sprintf("%s did not answer within %s", res.Number, ring)
	default:
		res.Outcome, res.Detail = GatewayFailure, err.Error()
	}
	return res
}

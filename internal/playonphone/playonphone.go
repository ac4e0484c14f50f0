// Package playonphone plays a voice message on a telephone (Exchange 2007's
// "Play on Phone", "Émettre au téléphone"): it calls the number through the
// outbound path and plays the message when the phone answers. The number
// must pass the message's mailbox's dialing restrictions (SPEC DIAL-2) and
// its outcall budgets and the server's (DIAL-4); a call refused is never
// placed, and gets event 9500. The outbound path logs the call's outcome
// (9502).
//
// The command line (openum message play-on-phone) runs it in its own
// process, on an outbound path of its own (NewDialer); a running server
// can call Service.Play with its own sip.Server.
package playonphone

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/sip"
)

// DefaultRingFor is how long the phone may ring before the call is given up.
const DefaultRingFor = 30 * time.Second

// Dialer places calls through a dial plan's gateways: *sip.Server.
type Dialer interface {
	Outcall(ctx context.Context, r sip.OutcallRequest) (*sip.Outcall, error)
}

// Messages is what Play on Phone reads of the message store.
type Messages interface {
	Get(ctx context.Context, id int64) (*msgstore.Message, error)
	Audio(ctx context.Context, id int64) ([]byte, error)
}

// Service plays messages on phones. Its fields are set before the first
// Play; Play is safe for concurrent use when Dialer, Messages and Ledger are.
type Service struct {
	Server   string // this server's record: whose budget the calls spend
	Dialer   Dialer
	Messages Messages
	Ledger   dialing.Ledger // the budgets' counts, shared by every process
	Events   *events.Log
	Now      func() time.Time // default time.Now
}

// Request asks for one message to be played on one phone.
type Request struct {
	Message int64
	Phone   string // the number as entered, read by the dial plan's rules
	// As is the subscriber asking, who must own the message; "" for an
	// administrator.
	As      string
	RingFor time.Duration // default DefaultRingFor
	// By is who asked (an admin API token's name, a command line's user),
	// named in events 9500, 9501 and 9502.
	By string
}

// Outcome is how a Play on Phone call ended.
type Outcome string

// The outcomes.
const (
	Answered       Outcome = "answered"        // the phone answered and heard the message (or hung up during it)
	Busy           Outcome = "busy"            // 486 or 600
	NoAnswer       Outcome = "no-answer"       // it rang out, or 408, 480, 487
	Rejected       Outcome = "rejected"        // another final answer from the called network (404, 603, ...)
	Refused        Outcome = "refused"         // refused before dialling: a rule, a restriction, a budget, no gateway, the server full
	GatewayFailure Outcome = "gateway-failure" // no gateway of the dial plan could carry it
)

// Result is what Play reports.
type Result struct {
	Message    int64
	Mailbox    string
	Number     string // as entered
	DialString string `json:",omitempty"`
	Group      string `json:",omitempty"` // the dialing rule group that matched
	Outcome    Outcome
	Reason     dialing.Reason `json:",omitempty"` // why it was refused
	Status     int            `json:",omitempty"` // the SIP status of busy, no-answer or rejected
	Detail     string         // one line for the administrator
	Played     msgstore.Duration
	Length     msgstore.Duration // the message's
	By         string            `json:",omitempty"` // who asked (Request.By)
}

// Error is a Play that did not play the message: Result says how.
type Error struct{ Result Result }

func (e *Error) Error() string {
	return fmt.Sprintf("playonphone: %s: %s", e.Result.Outcome, e.Result.Detail)
}

// Play plays r's message on r's phone, on snap's configuration. It returns
// the result; when the message was not played (refused, busy, no answer, a
// gateway failure) the error is an *Error holding it. Other errors (no such
// message, a mailbox gone) mean nothing was tried.
func (s *Service) Play(ctx context.Context, snap *directory.Snapshot, r Request) (Result, error) {
	m, err := s.Messages.Get(ctx, r.Message)
	if err != nil {
		return Result{}, err
	}
	if r.As != "" && !directory.SameName(r.As, m.Mailbox) {
		return Result{}, fmt.Errorf("playonphone: message %d is not in mailbox %s", m.ID, r.As)
	}
	res := Result{Message: m.ID, Mailbox: m.Mailbox, Number: r.Phone, Length: m.Duration, By: r.By}
	box, err := snap.Mailbox(m.Mailbox)
	if err != nil {
		return Result{}, fmt.Errorf("playonphone: message %d: %w", m.ID, err)
	}
	dp, err := snap.DialPlan(box.UMDialPlan)
	if err != nil {
		return Result{}, fmt.Errorf("playonphone: mailbox %s: %w", box.EmailAddress, err)
	}
	d := dialing.Authorize(snap, dp, dialing.Caller{Kind: dialing.PlayOnPhone, Mailbox: box.EmailAddress}, r.Phone)
	if d.Rule != nil {
		res.Group = d.Rule.Name
	}
	if !d.Allowed {
		return s.refuse(ctx, res, d.Reason, d.Detail)
	}
	res.DialString = d.DialString
	if usable, skipped := dialing.Gateways(snap, dp, dialing.ForOutcall); len(usable) == 0 {
		why := "it has no hunt group"
		if len(skipped) > 0 {
			why = strings.Join(skipped, "; ")
		}
		return s.refuse(ctx, res, dialing.NoGateway, fmt.Sprintf("no gateway of dial plan %s may carry outcalls: %s", dp.Name, why))
	}
	wav, err := s.Messages.Audio(ctx, m.ID)
	if err != nil {
		return Result{}, err
	}
	pcm, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return Result{}, fmt.Errorf("playonphone: message %d: %w", m.ID, err)
	}
	return s.call(ctx, res, r, snap, dp, box, pcm)
}

// refuse reports a call not placed, with event 9500.
func (s *Service) refuse(ctx context.Context, res Result, why dialing.Reason, detail string) (Result, error) {
	res.Outcome, res.Reason, res.Detail, res.DialString = Refused, why, detail, ""
	attrs := []slog.Attr{slog.String("feature", "PlayOnPhone"), slog.String("mailbox", res.Mailbox),
		slog.Int64("message", res.Message), slog.String("number", res.Number), slog.String("reason", string(why))}
	if res.Group != "" {
		attrs = append(attrs, slog.String("group", res.Group))
	}
	if res.By != "" {
		attrs = append(attrs, slog.String("user", res.By))
	}
	s.Events.Emit(ctx, events.DialRestricted, "call refused: not placed", append(attrs, slog.String("detail", detail))...)
	return res, &Error{res}
}

// startBudget counts the call against box's and the server's budgets and
// returns how long it may last.
func (s *Service) startBudget(ctx context.Context, snap *directory.Snapshot, box *directory.Mailbox) (time.Duration, error) {
	p, err := snap.MailboxPolicy(box.UMMailboxPolicy)
	if err != nil {
		return 0, fmt.Errorf("playonphone: mailbox %s: %w", box.EmailAddress, err)
	}
	sv, err := snap.Server(s.Server)
	if err != nil {
		return 0, fmt.Errorf("playonphone: %w", err)
	}
	return dialing.StartCall(ctx, s.Ledger, s.now(), sv.Name, box.EmailAddress, dialing.PolicyLimit(p), dialing.ServerLimit(sv))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

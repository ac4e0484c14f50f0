package sip

// Message waiting (SPEC UM-5): when a mailbox's count of new messages
// changes, the PBX hears it in a NOTIFY message-summary (RFC 3842) for the
// mailbox's extension, sent through a gateway of the mailbox's dial plan
// that allows message waiting, over the dial plan's transport (outbound.go).
// As Exchange does, the NOTIFY is unsolicited (Subscription-State:
// terminated); gateways that subscribed (subscribe.go) hear it in their
// dialog too.
//
// The change is noticed by polling the message store (mwipoll.go), not by
// calls inside this process: the command line changes messages from
// another process. A NOTIFY that no gateway takes is retried, through
// whichever gateway of the plan can take it then, for mwiRetryWindow; a
// gateway that answers OPTIONS again after an outage is sent the state of
// every mailbox it serves at once.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
)

// MessageCounts is where message waiting reads the mailboxes' counts;
// msgstore.Store is one.
type MessageCounts interface {
	Version(ctx context.Context) (uint64, error)
	Counts(ctx context.Context) (map[string]msgstore.Counts, error)
}

const (
	// mwiRetryWindow is how long a NOTIFY no gateway took is retried.
	mwiRetryWindow = 5 * time.Minute
	// maxNotifyWait bounds the wait for a gateway's answer to one NOTIFY.
	maxNotifyWait = 5 * time.Second
	// mwiParallel bounds the NOTIFYs in flight at once.
	mwiParallel = 8
	// summaryType is the Content-Type of an RFC 3842 body.
	summaryType = "application/simple-message-summary"
)

// messageSummary is RFC 3842's body for one mailbox.
func messageSummary(account string, c msgstore.Counts) []byte {
	waiting := "no"
	if c.New > 0 {
		waiting = "yes"
	}
	// openum has no urgent messages: the urgent counts are 0 (RFC 3842 5.2).
	return fmt.Appendf(nil, "Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n",
		waiting, account, c.New, c.Saved)
}

// mwiTarget is a mailbox as message waiting addresses it.
type mwiTarget struct {
	Mailbox   string // its address
	DialPlan  string
	Extension string
}

// mwiTarget finds the mailbox of address in v, with its extension, in a
// dial plan this server serves.
func (v *view) mwiTarget(address string) (mwiTarget, bool) {
	m, err := v.dir.Mailbox(address)
	if err != nil || len(m.Extensions) == 0 || !v.serves(m.UMDialPlan) {
		return mwiTarget{}, false
	}
	return mwiTarget{Mailbox: m.EmailAddress, DialPlan: m.UMDialPlan, Extension: m.Extensions[0]}, true
}

// messageWaiting holds the NOTIFYs to send: the latest counts of each
// mailbox whose NOTIFY is not yet taken, by msgstore.MailboxKey.
type messageWaiting struct {
	mu      sync.Mutex
	pending map[string]*pendingNotify
	kick    chan struct{}
}

type pendingNotify struct {
	counts   msgstore.Counts
	due      time.Time // the next attempt
	until    time.Time // the end of the retry window; zero before the first failure
	inFlight bool
}

// queueNotify makes the next NOTIFY of mailbox say c, replacing one not
// yet sent: the PBX needs the latest state, not each step.
func (s *Server) queueNotify(mailbox string, c msgstore.Counts) {
	w := &s.mwi
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[string]*pendingNotify{}
	}
	key := msgstore.MailboxKey(mailbox)
	p := w.pending[key]
	if p == nil {
		p = &pendingNotify{}
		w.pending[key] = p
	}
	p.counts, p.due, p.until = c, time.Time{}, time.Time{}
	w.mu.Unlock()
	s.kickNotify()
}

func (s *Server) kickNotify() {
	select {
	case s.mwi.kick <- struct{}{}:
	default:
	}
}

// sendNotifies sends the NOTIFYs due, at most mwiParallel at once, until
// ctx is done; it wakes on queueNotify and every retry interval.
func (s *Server) sendNotifies(ctx context.Context) {
	t := time.NewTicker(s.mwiRetry())
	defer t.Stop()
	sem := make(chan struct{}, mwiParallel)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.mwi.kick:
		case now := <-t.C:
			s.expireSubscriptions(ctx, now)
		}
		for _, mailbox := range s.dueNotifies(time.Now()) {
			sem <- struct{}{}
			s.wg.Go(func() {
				defer func() { <-sem }()
				s.attemptNotify(ctx, mailbox)
			})
		}
	}
}

func (s *Server) mwiRetry() time.Duration {
	if s.cfg.MessageWaitingRetry > 0 {
		return s.cfg.MessageWaitingRetry
	}
	return 30 * time.Second
}

// dueNotifies marks the NOTIFYs due at now in flight and returns their
// mailboxes.
func (s *Server) dueNotifies(now time.Time) []string {
	w := &s.mwi
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for key, p := range w.pending {
		if !p.inFlight && !p.due.After(now) {
			p.inFlight = true
			out = append(out, key)
		}
	}
	return out
}

// attemptNotify sends mailbox's pending NOTIFY once through the hunt, and
// keeps it for a retry while the window lasts.
func (s *Server) attemptNotify(ctx context.Context, mailbox string) {
	w := &s.mwi
	w.mu.Lock()
	p := w.pending[mailbox]
	c := p.counts
	w.mu.Unlock()
	err := s.notifyHunt(ctx, mailbox, c)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	p.inFlight = false
	if p.counts != c { // changed meanwhile: the newer state goes at once
		p.due, p.until = time.Time{}, time.Time{}
		s.kickNotify()
		return
	}
	var rejected *RejectedError
	retry := err != nil && ctx.Err() == nil && !(errors.As(err, &rejected) && rejected.Status < 500)
	if retry && p.until.IsZero() {
		p.until = now.Add(mwiRetryWindow)
	}
	if !retry || now.After(p.until) {
		delete(w.pending, mailbox)
	}
	if err == nil || ctx.Err() != nil {
		return
	}
	until := "not retried"
	switch {
	case !retry:
		until = "not retried: the gateway refused it"
	case now.After(p.until):
		until = "given up: " + mwiRetryWindow.String() + " of retries"
	default:
		p.due = now.Add(s.mwiRetry())
		until = p.until.UTC().Format(time.RFC3339)
	}
	s.cfg.Events.Emit(ctx, events.MessageWaitingFailed, "message waiting: no gateway took the NOTIFY",
		slog.String("mailbox", mailbox), slog.Int("new", c.New), slog.String("reason", err.Error()), slog.String("retrying_until", until))
}

// notifyHunt sends mailbox's counts to the first gateway of its dial plan
// that takes them; a mailbox without an extension or not served here
// needs no NOTIFY.
func (s *Server) notifyHunt(ctx context.Context, mailbox string, c msgstore.Counts) error {
	target, ok := s.view.Load().mwiTarget(mailbox)
	if !ok {
		return nil
	}
	r := OutcallRequest{DialPlan: target.DialPlan, Number: target.Extension, Purpose: ForMessageWaiting}
	return s.hunt(ctx, r, func(_ *view, dp *directory.DialPlan, gw *directory.IPGateway) error {
		return s.notifyGateway(ctx, dp, gw, target, c)
	})
}

// notifyGateway sends one unsolicited NOTIFY for target's counts to gw,
// and logs 9510 when it takes it.
func (s *Server) notifyGateway(ctx context.Context, dp *directory.DialPlan, gw *directory.IPGateway, target mwiTarget, c msgstore.Counts) error {
	req := sip.NewRequest(sip.NOTIFY, gatewayURI(gw, dp, target.Extension))
	req.SetTransport(gatewayTransport(dp))
	req.AppendHeader(sip.NewHeader("From", fmt.Sprintf("<sip:voicemail@%s>;tag=%s", s.cfg.FQDN, sip.GenerateTagN(16))))
	req.AppendHeader(sip.NewHeader("To", fmt.Sprintf("<sip:%s@%s>", target.Extension, gw.Address)))
	req.AppendHeader(s.contact(gatewayTransport(dp)))
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated"))
	if err := s.sendSummary(ctx, req, target.Extension, c); err != nil {
		return err
	}
	s.cfg.Events.Emit(ctx, events.MessageWaitingSent, "message waiting sent",
		slog.String("mailbox", target.Mailbox), slog.String("gateway", gw.Name), slog.String("extension", target.Extension),
		slog.Int("new", c.New), slog.Int("saved", c.Saved))
	return nil
}

// sendSummary adds the message-summary event and body to req, sends it and
// waits for a final answer: a 2xx is nil, another a *RejectedError.
func (s *Server) sendSummary(ctx context.Context, req *sip.Request, extension string, c msgstore.Counts) error {
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Content-Type", summaryType))
	req.SetBody(messageSummary("sip:"+extension+"@"+s.cfg.FQDN, c))
	ctx, cancel := context.WithTimeout(ctx, maxNotifyWait)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	switch {
	case err != nil:
		return fmt.Errorf("sip: NOTIFY: %w", err)
	case res == nil: // the transaction ended unanswered (the server stops)
		return errors.New("sip: NOTIFY: no response")
	case !res.IsSuccess():
		return &RejectedError{Status: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// gatewayBack sends gw, which answers OPTIONS again over transport, the
// current state of every mailbox of the dial plans it serves over that
// transport (Exchange waits up to 12 hours for this; openum does not).
func (s *Server) gatewayBack(ctx context.Context, gateway, transport string) {
	if s.cfg.Messages == nil {
		return
	}
	v := s.view.Load()
	gw, err := v.dir.IPGateway(gateway)
	if err != nil || gw.Status != directory.Enabled || !gw.MessageWaitingIndicatorAllowed {
		return
	}
	counts, err := s.cfg.Messages.Counts(ctx)
	if err != nil {
		s.cfg.Events.Emit(ctx, events.MessageWaitingFailed, "message waiting: the counts could not be read",
			slog.String("gateway", gw.Name), slog.String("reason", err.Error()), slog.String("retrying_until", "not retried"))
		return
	}
	plans := map[string]*directory.DialPlan{}
	for _, h := range v.dir.HuntGroups {
		if dp, err := v.dir.DialPlan(h.UMDialPlan); err == nil && directory.SameName(h.UMIPGateway, gw.Name) &&
			v.serves(dp.Name) && gatewayTransport(dp) == transport {
			plans[strings.ToLower(dp.Name)] = dp
		}
	}
	for _, m := range v.dir.Mailboxes.All() {
		target, ok := v.mwiTarget(m.EmailAddress)
		dp := plans[strings.ToLower(target.DialPlan)]
		if !ok || dp == nil {
			continue
		}
		c := counts[msgstore.MailboxKey(m.EmailAddress)]
		if err := s.notifyGateway(ctx, dp, gw, target, c); err != nil && ctx.Err() == nil {
			s.queueNotify(m.EmailAddress, c) // through the hunt, with its retries
		}
	}
}

package sip

// Blind transfer (SPEC DIAL-3; RFC 3515 REFER, RFC 5589 §6): openum asks
// the caller's side, on the call's own dialog, to call a number through
// the call's gateway, and follows the implicit subscription that the REFER
// creates. A 202 only says the REFER was understood: the transfer is done
// when a NOTIFY's message/sipfrag says 2xx (the new call was answered).
// A REFER refused, a sipfrag of 300 or more, a subscription ended before a
// final sipfrag, or no final NOTIFY within Limits.TransferTimeout is a
// failure, and the call goes on with openum as before.

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
)

// TransferError is why a transfer failed; the call goes on.
type TransferError struct {
	// Status is the REFER's final status when the REFER was refused, or
	// the sipfrag's status when the new call failed; 0 when there was none
	// (a timeout, a gateway that may not place calls).
	Status int
	Cause  string // one line, for the event log
}

func (e *TransferError) Error() string { return "sip: transfer failed: " + e.Cause }

// transfer is a transfer waiting for its NOTIFYs, on its call (call.transfer).
type transfer struct {
	notify chan referNotify
}

// referNotify is what one NOTIFY of a REFER's subscription said.
type referNotify struct {
	id         string // its Event header's id: the REFER's CSeq, or "" if it gave none
	status     int    // the sipfrag's status; 0 when the body was unreadable
	reason     string
	terminated bool // Subscription-State: terminated
}

// Transfer asks the caller's side to call number through the call's
// gateway (a blind transfer), with referredBy (a SIP URI: the mailbox's;
// "" for the server's) in Referred-By. It returns nil once a NOTIFY's
// sipfrag says 2xx: the caller is then talking to number, and the call
// handler should return, which hangs openum's leg up with a BYE. Any
// failure is a *TransferError (or ctx's error when the caller hung up),
// and the call goes on. One transfer runs at a time on a call.
func (c *Call) Transfer(ctx context.Context, number, referredBy string) error {
	if c.leg == nil {
		return errors.New("sip: the call has no dialog to transfer")
	}
	if gw := &c.Gateway; gw.Status != directory.Enabled || !dialing.ForOutcall.AllowedBy(gw) {
		return &TransferError{Cause: fmt.Sprintf("gateway %s may not place calls (Enabled, OutcallsAllowed)", gw.Name)}
	}
	t := &transfer{notify: make(chan referNotify, 8)}
	leg := c.leg
	leg.mu.Lock()
	busy := leg.transfer != nil
	if !busy {
		leg.transfer = t
	}
	leg.mu.Unlock()
	if busy {
		return &TransferError{Cause: "a transfer of this call is already in progress"}
	}
	defer func() {
		leg.mu.Lock()
		leg.transfer = nil
		leg.mu.Unlock()
	}()
	timeout := c.srv.limits.TransferTimeout
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req := c.referRequest(number, referredBy)
	tx, err := leg.dialog.TransactionRequest(waitCtx, req)
	if err != nil {
		return &TransferError{Cause: fmt.Sprintf("REFER to %s not sent: %v", number, err)}
	}
	defer tx.Terminate()
	cseq := fmt.Sprint(req.CSeq().SeqNo) // a NOTIFY's Event id names it
	responses, done := tx.Responses(), tx.Done()
	for {
		select {
		case res := <-responses:
			switch {
			case res.StatusCode >= 300:
				return &TransferError{Status: res.StatusCode, Cause: fmt.Sprintf("REFER to %s refused: %d %s", number, res.StatusCode, printable(res.Reason))}
			case res.StatusCode >= 200:
				responses, done = nil, nil // accepted: the NOTIFYs tell the rest
			}
		case <-done:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &TransferError{Cause: fmt.Sprintf("REFER to %s had no answer: %v", number, tx.Err())}
		case n := <-t.notify:
			if n.id != "" && n.id != cseq {
				continue // an earlier REFER's subscription
			}
			switch {
			case n.status >= 200 && n.status < 300:
				return nil
			case n.status >= 300:
				return &TransferError{Status: n.status, Cause: fmt.Sprintf("the call to %s failed: NOTIFY sipfrag %d %s", number, n.status, n.reason)}
			case n.terminated:
				return &TransferError{Cause: fmt.Sprintf("the subscription of the transfer to %s ended without a final sipfrag", number)}
			}
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &TransferError{Cause: fmt.Sprintf("no final NOTIFY for the transfer to %s within %s", number, timeout)}
		}
	}
}

// referRequest is the REFER of a transfer to number, to the caller's
// Contact, the rest of the dialog's headers filled in by sipgo.
func (c *Call) referRequest(number, referredBy string) *sip.Request {
	invite := c.leg.dialog.InviteRequest
	req := sip.NewRequest(sip.REFER, invite.Contact().Address)
	req.SetTransport(invite.Transport())
	to := gatewayURI(&c.Gateway, &c.DialPlan, number)
	var by sip.Uri
	if referredBy == "" || sip.ParseUri(referredBy, &by) != nil {
		by = sip.Uri{User: "openum", Host: c.srv.cfg.FQDN}
	}
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+to.String()+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+by.String()+">"))
	return req
}

// onNotify takes a NOTIFY of a transfer's subscription: in a call's
// dialog, Event refer, while a transfer waits. It is answered 200 and its
// sipfrag handed to the transfer. A NOTIFY for no call, or when no
// transfer waits (a late one), gets 481, which ends the notifier's
// subscription; another event package 489.
func (s *Server) onNotify(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	c := s.inDialog(req, tx, peer)
	if c == nil {
		return
	}
	event, id := "", ""
	if h := req.GetHeader("Event"); h != nil {
		event, id = eventOf(h.Value())
	}
	if event != "refer" {
		s.respond(tx, req, 489, nil)
		return
	}
	c.mu.Lock()
	t := c.transfer
	c.mu.Unlock()
	if t == nil {
		s.respond(tx, req, 481, nil)
		return
	}
	n := referNotify{id: id}
	if h := req.GetHeader("Subscription-State"); h != nil {
		state, _ := eventOf(h.Value())
		n.terminated = state == "terminated"
	}
	if isSipfrag(req) {
		n.status, n.reason, _ = parseSipfrag(req.Body())
	}
	s.respond(tx, req, 200, nil)
	select {
	case t.notify <- n:
	default: // a flood of NOTIFYs: the transfer has enough to decide
	}
}

// eventOf reads an Event or Subscription-State value: its token, lower
// case, and its id parameter.
func eventOf(v string) (token, id string) {
	parts := strings.Split(v, ";")
	for _, p := range parts[1:] {
		if name, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(name), "id") {
			id = strings.TrimSpace(val)
		}
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), id
}

func isSipfrag(req *sip.Request) bool {
	h := req.ContentType()
	if h == nil {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Value())
	return err == nil && mt == "message/sipfrag"
}

// maxSipfragLine bounds the status line read from a sipfrag body.
const maxSipfragLine = 256

// parseSipfrag reads the status line of a message/sipfrag body (RFC 3420),
// "SIP/2.0 200 OK": the status and its reason, printable and at most 64
// characters. Headers after it are ignored. The body comes from the
// network: the error says which rule it broke, never quoting it.
func parseSipfrag(body []byte) (status int, reason string, err error) {
	line := body
	if i := strings.IndexAny(string(body[:min(len(body), maxSipfragLine+2)]), "\r\n"); i >= 0 {
		line = body[:i]
	}
	if len(line) > maxSipfragLine {
		return 0, "", errors.New("sip: sipfrag status line too long")
	}
	version, rest, ok := strings.Cut(string(line), " ")
	if !ok || version != "SIP/2.0" {
		return 0, "", errors.New("sip: sipfrag does not begin with SIP/2.0 and a status")
	}
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '6' || strings.Trim(code, "0123456789") != "" {
		return 0, "", errors.New("sip: sipfrag status is not three digits from 100 to 699")
	}
	status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	return status, printable(reason), nil
}

// printable is s as the event log may quote it: printable ASCII only, at
// most 64 characters.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return -1
		}
		return r
	}, s)
	return s[:min(len(s), 64)]
}

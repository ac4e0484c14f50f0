package sip

// DTMF by SIP INFO: many gateways send key presses in the dialog as INFO
// requests (application/dtmf-relay, Cisco's "Signal=5\r\nDuration=160",
// or application/dtmf, the key alone) rather than as RFC 4733 events in
// the media. Both reach the call handler the same way: on the call's
// media.Stream Received channel (see media.Stream.InjectDigit).

import (
	"context"
	"errors"
	"mime"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// dtmfTypes are the INFO bodies openum reads, as a 415 lists them.
const dtmfTypes = "application/dtmf-relay, application/dtmf"

// parseDTMFInfo's errors: fixed texts, for they must never quote the
// body (it may be a PIN). errUnsupportedType is for a body that is not DTMF.
var (
	errUnsupportedType = errors.New("sip: INFO body is not application/dtmf-relay or application/dtmf")
	errBadType         = errors.New("sip: INFO Content-Type is malformed")
	errNoSignal        = errors.New("sip: dtmf-relay body has no Signal line")
	errTwoSignals      = errors.New("sip: dtmf-relay body has two different Signal lines")
	errBadDuration     = errors.New("sip: dtmf-relay Duration is not a number of milliseconds")
	errNotKey          = errors.New("sip: INFO Signal is not a DTMF key (0-9, *, #, A-D, or event codes 10-15)")
)

// onInfo hands the key an INFO carries to its call. An INFO for no dialog
// gets 481; one older than the call's last INFO 500 (out of order, RFC 3261
// 12.2.2); one with the CSeq of the last INFO is a repeat of a press
// already delivered: 200, and nothing more. An INFO with no body (some
// gateways' keep-alive) gets 200.
//
// The order is kept among INFOs, not by the dialog's CSeq (sipgo's
// ReadRequest): a gateway sends its first key right after the ACK, sipgo
// handles the two at once, and an INFO read first would make the dialog
// refuse the ACK of a lower CSeq.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	ctx := context.Background()
	c := s.inDialog(req, tx, peer)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	seq := req.CSeq().SeqNo
	switch {
	case seq < c.lastInfo:
		s.reject(ctx, tx, req, peer, refuse(500, events.MalformedRequest, "INFO on call %s: CSeq %d after %d", c.id, seq, c.lastInfo))
		return
	case seq == c.lastInfo:
		s.respond(tx, req, 200, nil)
		return
	}
	c.lastInfo = seq
	ctype := ""
	if h := req.ContentType(); h != nil {
		ctype = h.Value()
	}
	key, err := parseDTMFInfo(ctype, req.Body())
	switch {
	case errors.Is(err, errUnsupportedType):
		rej := refuse(415, events.MalformedRequest, "INFO on call %s: %v", c.id, err)
		rej.Accept = dtmfTypes
		s.reject(ctx, tx, req, peer, rej)
		return
	case err != nil:
		s.reject(ctx, tx, req, peer, refuse(400, events.MalformedRequest, "INFO on call %s: %v", c.id, err))
		return
	}
	if key != 0 && (c.stream == nil || c.stream.InjectDigit(key) != nil) {
		// No media yet (a delayed offer not answered), the call is ending,
		// or it is not reading keys: the press is lost, and the gateway is
		// told so.
		s.respond(tx, req, 500, nil)
		return
	}
	s.respond(tx, req, 200, nil)
}

// parseDTMFInfo reads the key an INFO body of Content-Type ctype carries;
// 0 for no body at all.
//
// application/dtmf-relay is lines of name=value, names in any case, CRLF
// or LF, spaces around either side; Signal is required, Duration (in ms)
// optional, other lines are ignored. application/dtmf is the key alone. A
// key is 0-9, *, #, A-D (any case), or its RFC 4733 event code: some
// stacks send 10 and 11 for * and #.
func parseDTMFInfo(ctype string, body []byte) (byte, error) {
	if ctype == "" && len(body) == 0 {
		return 0, nil
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return 0, errBadType
	}
	switch mt {
	case "application/dtmf":
		return dtmfKey(string(body))
	case "application/dtmf-relay":
	default:
		return 0, errUnsupportedType
	}
	var key byte
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "signal":
			k, err := dtmfKey(value)
			if err != nil {
				return 0, err
			}
			if key != 0 && k != key {
				return 0, errTwoSignals
			}
			key = k
		case "duration":
			if _, err := strconv.ParseUint(strings.TrimSpace(value), 10, 32); err != nil {
				return 0, errBadDuration
			}
		}
	}
	if key == 0 {
		return 0, errNoSignal
	}
	return key, nil
}

// dtmfKey reads one key: the character, or its RFC 4733 event code.
func dtmfKey(s string) (byte, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 1 && strings.Contains(media.DTMFKeys, s) {
		return s[0], nil
	}
	if len(s) == 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '5' {
		return media.DTMFKeys[10+s[1]-'0'], nil
	}
	return 0, errNotKey
}

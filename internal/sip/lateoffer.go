package sip

// Delayed offer (RFC 3261 section 13.2.1, RFC 3264 section 4): an INVITE
// without SDP, the default of many PBX trunks. openum makes the offer in
// its 200, in the dial plan's mode (Secured: SRTP only, with a fresh key),
// and the ACK carries the answer.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/media"
)

// offerInOK answers a delayed-offer INVITE with a 200 carrying port's
// offer, waits for the ACK and starts the stream on the answer it carries.
// An ACK without an answer, or with one that breaks the offer (another
// codec, RTP for SRTP, another suite), ends the call: event 9204, then BYE.
// It holds c.mu until the stream runs, so that a re-INVITE or INFO
// waits for it.
func (s *Server) offerInOK(ctx context.Context, c *call, port *media.Port, peer Peer) (*media.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.dialog.Respond(200, "OK", port.Local.Marshal(), sip.NewHeader("Content-Type", "application/sdp"), allow()); err != nil {
		return nil, err
	}
	stream, err := startOnAck(c, port)
	if err != nil {
		s.cfg.Events.Emit(ctx, events.SRTPNegotiationFailed, "delayed offer: the ACK did not answer openum's offer: hanging up",
			slog.String("reason", err.Error()), slog.String("gateway", peer.Gateway), slog.String("dialplan", c.plan.Name),
			slog.String("security", string(c.plan.VoIPSecurity)), slog.String("callid", c.id))
		byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.dialog.Bye(byeCtx)
		return nil, err
	}
	c.stream, c.answer = stream, port.Local
	return stream, nil
}

// startOnAck starts port's stream on the answer in the call's ACK, which
// Respond has waited for (or given up on after 64*T1).
func startOnAck(c *call, port *media.Port) (*media.Stream, error) {
	var body []byte
	select {
	case body = <-c.ack:
	default:
	}
	if len(body) == 0 {
		return nil, errors.New("the ACK carries no SDP answer")
	}
	answer, err := media.ParseRemote(body)
	if err != nil {
		return nil, fmt.Errorf("the ACK's answer: %w", err)
	}
	return port.Start(answer)
}

// closeMedia closes a call's stream, or its port when the stream never
// started (a delayed offer not answered).
func closeMedia(port *media.Port, stream *media.Stream) {
	if stream != nil {
		stream.Close()
		return
	}
	_ = port.Close()
}

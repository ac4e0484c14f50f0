package sip

// SUBSCRIBE to message-summary (RFC 6665, RFC 3842; SPEC UM-5): a trusted
// gateway that allows message waiting may subscribe to an extension of the
// dial plans it serves. It gets 200 with the Expires granted (bounded to
// minExpires..maxExpires), then at once a NOTIFY in the new dialog with the
// mailbox's state, another on each change, one on each refresh, and a
// final one (terminated) on un-subscribing (Expires: 0) or expiry. An
// extension that is not the gateway's and one that does not exist get the
// same 404. One subscription per gateway and extension is kept: a new one
// replaces the old, so no gateway can grow the table beyond its extensions.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/msgstore"
)

// The subscription intervals: the shortest accepted (shorter: 423), the
// longest granted, and the one granted when the SUBSCRIBE names none.
const (
	minExpires     = 60
	maxExpires     = 3600
	defaultExpires = 3600
)

// parseSubscribe reads what a SUBSCRIBE asks: its Event header, its
// Expires headers and its Accept headers, and returns the interval to
// grant (0: un-subscribe), or why not.
func parseSubscribe(event string, expires, accept []string) (int, *Rejection) {
	pkg, _, _ := strings.Cut(event, ";")
	if !strings.EqualFold(strings.TrimSpace(pkg), "message-summary") {
		r := refuse(489, events.MalformedRequest, "SUBSCRIBE for event package %.40q; openum serves message-summary", pkg)
		r.Headers = []sip.Header{sip.NewHeader("Allow-Events", "message-summary")}
		return 0, r
	}
	if !acceptsSummary(accept) {
		r := refuse(406, events.MalformedRequest, "SUBSCRIBE whose Accept has no %s", summaryType)
		r.Accept = summaryType
		return 0, r
	}
	n := defaultExpires
	switch len(expires) {
	case 0:
	case 1:
		v, err := strconv.ParseUint(strings.TrimSpace(expires[0]), 10, 32)
		if err != nil {
			return 0, refuse(400, events.MalformedRequest, "SUBSCRIBE Expires %.20q is not a number of seconds", expires[0])
		}
		n = int(min(v, maxExpires))
	default:
		return 0, refuse(400, events.MalformedRequest, "SUBSCRIBE with %d Expires headers", len(expires))
	}
	if n > 0 && n < minExpires {
		r := refuse(423, events.MalformedRequest, "SUBSCRIBE Expires %d below %d", n, minExpires)
		r.Headers = []sip.Header{sip.NewHeader("Min-Expires", strconv.Itoa(minExpires))}
		return 0, r
	}
	return n, nil
}

// acceptsSummary reports whether Accept headers allow an RFC 3842 body;
// none at all means the package's default, which is one (RFC 3842 4).
func acceptsSummary(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, h := range accept {
		for _, t := range strings.Split(h, ",") {
			t, _, _ = strings.Cut(t, ";")
			switch strings.ToLower(strings.TrimSpace(t)) {
			case summaryType, "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// subscription is one gateway's subscription to one extension.
type subscription struct {
	key       string // Call-ID and the subscriber's tag
	localTag  string
	gateway   directory.IPGateway
	target    mwiTarget
	remote    sip.Uri  // the subscriber's Contact: the NOTIFY's Request-URI
	local     sip.Uri  // the SUBSCRIBE's To URI: the NOTIFY's From
	peer      sip.Uri  // the SUBSCRIBE's From URI
	peerTag   string   // its tag
	routes    []string // the Record-Route set, in order
	source    string   // the connection the SUBSCRIBE came on
	transport string

	mu      sync.Mutex // orders the NOTIFYs of the dialog
	cseq    uint32
	told    *msgstore.Counts // what the last NOTIFY the subscriber accepted said; guarded by mu
	expires time.Time        // guarded by subscriptions.mu
}

// subscriptions holds the live ones, by dialog and by gateway and extension.
type subscriptions struct {
	mu       sync.Mutex
	byDialog map[string]*subscription
	byTarget map[string]*subscription
}

func (sub *subscription) targetKey() string {
	return strings.ToLower(sub.gateway.Name) + " " + sub.target.Extension
}

func headerValues(req *sip.Request, name string) []string {
	var out []string
	for _, h := range req.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

func (s *Server) onSubscribe(req *sip.Request, tx sip.ServerTransaction, peer Peer) {
	ctx := context.Background()
	v := s.view.Load()
	gw, rej := v.checkPeer(peer)
	switch {
	case rej != nil:
	case gw == nil:
		rej = refuse(403, events.PeerRefused, "server %s: only gateways subscribe to message waiting", peer.Server)
	case !gw.MessageWaitingIndicatorAllowed:
		rej = refuse(403, events.PeerRefused, "gateway %s does not allow message waiting (MessageWaitingIndicatorAllowed)", gw.Name)
	case s.cfg.Messages == nil:
		rej = refuse(489, events.MalformedRequest, "SUBSCRIBE: this server has no message store")
	}
	expires := 0
	if rej == nil {
		expires, rej = parseSubscribe(strings.Join(headerValues(req, "Event"), ","), headerValues(req, "Expires"), headerValues(req, "Accept"))
	}
	if rej != nil {
		s.reject(ctx, tx, req, peer, rej)
		return
	}
	key := req.CallID().Value() + " " + req.From().Params.GetOr("tag", "")
	if tag, ok := req.To().Params.Get("tag"); ok {
		s.refreshSubscription(ctx, req, tx, peer, key, tag, expires)
		return
	}
	target, rej := v.subscribable(gw, peer, req.Recipient.User)
	if rej != nil {
		s.reject(ctx, tx, req, peer, rej)
		return
	}
	sub := &subscription{key: key, localTag: sip.GenerateTagN(16), gateway: *gw, target: target,
		local: req.To().Address, peer: req.From().Address, peerTag: req.From().Params.GetOr("tag", ""),
		source: req.Source(), transport: req.Transport(), remote: req.From().Address}
	if c := req.Contact(); c != nil {
		sub.remote = c.Address
	}
	for _, h := range req.GetHeaders("Record-Route") {
		sub.routes = append(sub.routes, h.Value())
	}
	if expires > 0 {
		s.subs.add(sub, time.Now().Add(time.Duration(expires)*time.Second))
	}
	s.acceptSubscribe(tx, req, sub, expires)
	state := fmt.Sprintf("active;expires=%d", expires)
	if expires == 0 { // a fetch: one NOTIFY, no subscription (RFC 6665 4.4.3)
		state = "terminated;reason=timeout"
	}
	go s.notifySubscription(ctx, sub, state, nil)
}

// subscribable finds the mailbox of extension ext in a dial plan gw serves
// for this server. Every refusal is the same 404 to the peer.
func (v *view) subscribable(gw *directory.IPGateway, peer Peer, ext string) (mwiTarget, *Rejection) {
	for _, h := range v.dir.HuntGroups {
		dp, err := v.dir.DialPlan(h.UMDialPlan)
		if err != nil || !directory.SameName(h.UMIPGateway, gw.Name) || !v.serves(dp.Name) {
			continue
		}
		for _, m := range v.dir.Mailboxes.All() {
			target, ok := v.mwiTarget(m.EmailAddress)
			if !ok || !directory.SameName(target.DialPlan, dp.Name) || !slices.Contains(m.Extensions, ext) {
				continue
			}
			if dp.VoIPSecurity.SignalingSecured() && peer.Transport != "TLS" {
				return mwiTarget{}, refuse(404, events.CallRefusedSecurity,
					"SUBSCRIBE for extension %s of dial plan %s (%s) came over %s", ext, dp.Name, dp.VoIPSecurity, peer.Transport)
			}
			target.Extension = ext
			return target, nil
		}
	}
	return mwiTarget{}, refuse(404, events.InvalidExtension, "SUBSCRIBE for %.32q: no mailbox of the dial plans of gateway %s has that extension", ext, gw.Name)
}

// refreshSubscription handles a SUBSCRIBE inside a subscription's dialog:
// a refresh, or with expires 0 the end.
func (s *Server) refreshSubscription(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, peer Peer, key, tag string, expires int) {
	s.subs.mu.Lock()
	sub := s.subs.byDialog[key]
	ok := sub != nil && sub.localTag == tag && directory.SameName(sub.gateway.Name, peer.Gateway)
	if ok && expires == 0 {
		s.subs.removeLocked(sub)
	} else if ok {
		sub.expires = time.Now().Add(time.Duration(expires) * time.Second)
	}
	s.subs.mu.Unlock()
	if !ok {
		s.respond(tx, req, 481, nil)
		return
	}
	s.acceptSubscribe(tx, req, sub, expires)
	state := fmt.Sprintf("active;expires=%d", expires)
	if expires == 0 {
		state = "terminated"
	}
	go s.notifySubscription(ctx, sub, state, nil)
}

func (s *Server) acceptSubscribe(tx sip.ServerTransaction, req *sip.Request, sub *subscription, expires int) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.SipVersion = "SIP/2.0"
	if to := res.To(); to != nil { // sipgo tagged it with a tag of its own
		to.Params.Remove("tag")
		to.Params.Add("tag", sub.localTag)
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(s.contact(sub.transport))
	_ = tx.Respond(res)
}

func (t *subscriptions) add(sub *subscription, expires time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byDialog == nil {
		t.byDialog, t.byTarget = map[string]*subscription{}, map[string]*subscription{}
	}
	if old := t.byTarget[sub.targetKey()]; old != nil {
		t.removeLocked(old)
	}
	sub.expires = expires
	t.byDialog[sub.key], t.byTarget[sub.targetKey()] = sub, sub
}

func (t *subscriptions) removeLocked(sub *subscription) {
	if t.byDialog[sub.key] == sub {
		delete(t.byDialog, sub.key)
	}
	if t.byTarget[sub.targetKey()] == sub {
		delete(t.byTarget, sub.targetKey())
	}
}

// take removes and returns the subscriptions keep says no to.
func (t *subscriptions) take(drop func(*subscription) bool) []*subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*subscription
	for _, sub := range t.byDialog {
		if drop(sub) {
			t.removeLocked(sub)
			out = append(out, sub)
		}
	}
	return out
}

// expireSubscriptions ends the subscriptions past their expiry at now,
// each with a final NOTIFY.
func (s *Server) expireSubscriptions(ctx context.Context, now time.Time) {
	for _, sub := range s.subs.take(func(sub *subscription) bool { return now.After(sub.expires) }) {
		go s.notifySubscription(ctx, sub, "terminated;reason=timeout", nil)
	}
}

// notifySubscribers sends c to each subscriber of mailbox.
func (s *Server) notifySubscribers(ctx context.Context, mailbox string, c msgstore.Counts) {
	s.subs.mu.Lock()
	var subs []*subscription
	var left []int
	for _, sub := range s.subs.byDialog {
		if msgstore.MailboxKey(sub.target.Mailbox) == mailbox {
			subs = append(subs, sub)
			left = append(left, max(0, int(time.Until(sub.expires).Seconds())))
		}
	}
	s.subs.mu.Unlock()
	for i, sub := range subs {
		go s.notifySubscription(ctx, sub, fmt.Sprintf("active;expires=%d", left[i]), &c)
	}
}

// notifySubscription sends sub's dialog a NOTIFY in state with counts c
// (nil: read them now), over the connection its SUBSCRIBE came on while it
// is open, else to the gateway's address and port. A subscriber that
// answers 481 has forgotten the dialog: the subscription ends. A change
// the subscriber was already told is not sent again: the poll that notices
// a new message may come after the SUBSCRIBE's own NOTIFY carried it.
func (s *Server) notifySubscription(ctx context.Context, sub *subscription, state string, c *msgstore.Counts) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if c != nil && sub.told != nil && *sub.told == *c {
		return
	}
	if c == nil {
		all, err := s.cfg.Messages.Counts(ctx)
		if err != nil {
			s.subscriptionFailed(ctx, sub, err)
			return
		}
		mine := all[msgstore.MailboxKey(sub.target.Mailbox)]
		c = &mine
	}
	sub.cseq++
	req := sip.NewRequest(sip.NOTIFY, sub.remote)
	req.SetTransport(sub.transport)
	local := sip.FromHeader{Address: sub.local, Params: sip.NewParams()}
	local.Params.Add("tag", sub.localTag)
	remote := sip.ToHeader{Address: sub.peer, Params: sip.NewParams()}
	remote.Params.Add("tag", sub.peerTag)
	callID := sip.CallIDHeader(strings.SplitN(sub.key, " ", 2)[0])
	req.AppendHeader(&local)
	req.AppendHeader(&remote)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	for _, r := range sub.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(s.contact(sub.transport))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if conn, err := s.ua.TransportLayer().GetConnection(sub.transport, sub.source); err == nil {
		conn.Ref(-1) // GetConnection took a reference; the NOTIFY's transaction takes its own
		req.SetDestination(sub.source)
	} else {
		req.SetDestination(net.JoinHostPort(sub.gateway.Address, strconv.Itoa(sub.gateway.Port)))
	}
	err := s.sendSummary(ctx, req, sub.target.Extension, *c)
	if err != nil {
		if rejected, ok := err.(*RejectedError); ok && rejected.Status == 481 {
			s.subs.take(func(o *subscription) bool { return o == sub })
		}
		s.subscriptionFailed(ctx, sub, err)
		return
	}
	sub.told = c
	s.cfg.Events.Emit(ctx, events.MessageWaitingSent, "message waiting sent to a subscriber",
		slog.String("mailbox", sub.target.Mailbox), slog.String("gateway", sub.gateway.Name), slog.String("extension", sub.target.Extension),
		slog.Int("new", c.New), slog.Int("saved", c.Saved), slog.String("subscription_state", state))
}

func (s *Server) subscriptionFailed(ctx context.Context, sub *subscription, err error) {
	s.cfg.Events.Emit(ctx, events.MessageWaitingFailed, "message waiting: a subscriber's NOTIFY failed",
		slog.String("mailbox", sub.target.Mailbox), slog.String("gateway", sub.gateway.Name), slog.String("reason", err.Error()),
		slog.String("retrying_until", "not retried: the dialog's next NOTIFY carries the state"))
}

package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/media"
)

// CallerConfig describes the gateway side of a call openum places to a SIP
// server: openum test connectivity and openum test load call as a gateway
// would.
type CallerConfig struct {
	Server    string      // host:port; over TLS, host is the name the server's certificate must show
	Transport string      // "TCP" or "TLS"
	TLS       *tls.Config // over TLS: the client certificate, and the roots that verify the server
	LocalIP   netip.Addr  // the address calls and media come from
	From      string      // the calling number
	RTPFirst  int         // the UDP ports for media; default 40000-49999
	RTPLast   int
}

// Caller places calls. It answers the server's in-dialog requests (a BYE
// when the server hangs up). Close it when done.
type Caller struct {
	cfg     CallerConfig
	ua      *sipgo.UserAgent
	client  *sipgo.Client
	server  *sipgo.Server
	dialogs *sipgo.DialogClientCache
}

// NewCaller prepares a caller; it connects on the first request.
func NewCaller(cfg CallerConfig) (*Caller, error) {
	if cfg.RTPFirst == 0 {
		cfg.RTPFirst, cfg.RTPLast = 40000, 49999
	}
	quiet := slog.New(slog.DiscardHandler)
	opts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent("openum-test"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
	}
	if cfg.TLS != nil {
		opts = append(opts, sipgo.WithUserAgenTLSConfig(cfg.TLS))
	}
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		return nil, fmt.Errorf("sip: caller: %w", err)
	}
	c := &Caller{cfg: cfg, ua: ua}
	if c.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(quiet), sipgo.WithClientHostname(cfg.LocalIP.String()),
		sipgo.WithClientConnectionAddr(net.JoinHostPort(cfg.LocalIP.String(), "0"))); err != nil {
		return nil, fmt.Errorf("sip: caller: %w", err)
	}
	if c.server, err = sipgo.NewServer(ua, sipgo.WithServerLogger(quiet)); err != nil {
		return nil, fmt.Errorf("sip: caller: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{User: cfg.From, Host: cfg.LocalIP.String()}}
	c.dialogs = sipgo.NewDialogClientCache(c.client, contact)
	c.server.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := c.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, reason(481), nil))
		}
	})
	return c, nil
}

// Close closes the caller's connections.
func (c *Caller) Close() error {
	return errors.Join(c.client.Close(), c.server.Close(), c.ua.Close())
}

func (c *Caller) uri(user string) sip.Uri {
	host, portStr, _ := net.SplitHostPort(c.cfg.Server)
	port, _ := strconv.Atoi(portStr)
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(c.cfg.Transport))
	return sip.Uri{User: user, Host: host, Port: port, UriParams: params}
}

// Options sends OPTIONS, the keep-alive gateways send, and returns the
// response's status.
func (c *Caller) Options(ctx context.Context) (int, error) {
	req := sip.NewRequest(sip.OPTIONS, c.uri(""))
	res, err := c.client.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("sip: OPTIONS: %w", err)
	}
	return res.StatusCode, nil
}

// Outcall is a call the caller placed.
type Outcall struct {
	Audio  *media.Stream
	Local  *media.Local  // what the caller offered and streams with
	Setup  time.Duration // from INVITE to 200 OK
	dialog *sipgo.DialogClientSession
	// ctx is done when the call ends: the dialog's, or end when it is hung
	// up (a BYE without a 200 leaves sipgo's dialog open).
	ctx context.Context
	end context.CancelFunc
	// stopped is set when the server's Shutdown hung the call up (Err).
	stopped atomic.Bool
}

// RejectedError is a final non-2xx answer to an INVITE.
type RejectedError struct {
	Status int
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("sip: call refused: %d %s", e.Status, e.Reason)
}

// Call calls number with a G.711 offer (SRTP only when secure), waits for
// the answer, acknowledges it and starts the media. The answer must keep
// the offer's security: an SRTP offer answered with RTP fails.
func (c *Caller) Call(ctx context.Context, number string, secure bool) (*Outcall, error) {
	from := sip.NewHeader("From", fmt.Sprintf("<sip:%s@%s>;tag=%s", c.cfg.From, c.cfg.LocalIP, sip.GenerateTagN(16)))
	ports := media.Ports{IP: c.cfg.LocalIP, First: c.cfg.RTPFirst, Last: c.cfg.RTPLast}
	return dial(ctx, ports, secure, func(offer []byte) (*sipgo.DialogClientSession, error) {
		return c.dialogs.Invite(ctx, c.uri(number), offer, sip.NewHeader("Content-Type", "application/sdp"), from)
	})
}

// dial is a call placed, the one way for the Caller and the server's own
// outcalls alike: it opens a port on ports with a G.711 offer (SRTP only
// when secure), sends it with invite, waits for the answer, starts the
// media on it and acknowledges it. An answer that does not keep the
// offer's codec or security is hung up.
func dial(ctx context.Context, ports media.Ports, secure bool, invite func(offer []byte) (*sipgo.DialogClientSession, error)) (*Outcall, error) {
	port, err := media.OpenPort(ports, nil, secure)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	dlg, err := invite(port.Local.Marshal())
	if err != nil {
		port.Close()
		return nil, fmt.Errorf("sip: INVITE: %w", err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		port.Close()
		dlg.Close()
		var rejected *sipgo.ErrDialogResponse
		if errors.As(err, &rejected) {
			return nil, &RejectedError{Status: rejected.Res.StatusCode, Reason: rejected.Res.Reason}
		}
		return nil, fmt.Errorf("sip: INVITE: %w", err)
	}
	out := &Outcall{Setup: time.Since(start), dialog: dlg}
	out.ctx, out.end = context.WithCancel(dlg.Context())
	answer, err := media.ParseRemote(dlg.InviteResponse.Body())
	if err == nil {
		out.Audio, err = port.Start(answer) // closes the port on error
		out.Local = port.Local
	} else {
		port.Close()
	}
	if ackErr := dlg.Ack(ctx); err == nil {
		err = ackErr
	}
	if err != nil {
		if out.Audio != nil {
			out.Audio.Close()
		}
		out.hangup(ctx)
		return nil, err
	}
	return out, nil
}

// Done is closed when the call ends, on either side: the far end's BYE,
// or Hangup, whether its BYE was answered or not.
func (o *Outcall) Done() <-chan struct{} { return o.ctx.Done() }

// Hangup sends BYE (unless the server already hung up) and stops the media.
func (o *Outcall) Hangup(ctx context.Context) error {
	err := o.hangup(ctx)
	if o.Audio != nil {
		o.Audio.Close()
	}
	return err
}

func (o *Outcall) hangup(ctx context.Context) error {
	defer o.end()
	defer o.dialog.Close()
	if o.dialog.Context().Err() != nil {
		return nil
	}
	return o.dialog.Bye(ctx)
}

package sip

// OPTIONS pings (SPEC DIAL-3): every Config.OptionsInterval the server
// sends OPTIONS to each gateway that carries its outbound traffic, over the
// transport of the dial plan it serves (TLS for a secured one). A gateway
// that does not answer gets Exchange's event 1400, once per outage, and is
// skipped by the outbound path until it answers again (9503).

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// maxOptionsWait bounds how long a gateway has to answer one OPTIONS.
const maxOptionsWait = 5 * time.Second

// gatewayHealth is what the pings found: the gateways, by lower-case name
// and transport, that did not answer the last one.
type gatewayHealth struct {
	mu   sync.Mutex
	down map[string]bool
}

func healthKey(gateway, transport string) string { return strings.ToLower(gateway) + " " + transport }

// gatewayDown reports whether gateway did not answer the last OPTIONS sent
// over transport.
func (s *Server) gatewayDown(gateway, transport string) bool {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.down[healthKey(gateway, transport)]
}

// setDown records a ping's outcome and reports whether it changed.
func (s *Server) setDown(gateway, transport string, down bool) bool {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.down == nil {
		s.health.down = map[string]bool{}
	}
	key := healthKey(gateway, transport)
	was := s.health.down[key]
	if down {
		s.health.down[key] = true
	} else {
		delete(s.health.down, key)
	}
	return was != down
}

// pingGateways pings the gateways every OptionsInterval, the first time
// one interval after start, until ctx is done;
// it returns at once when the interval is 0 (pings off).
func (s *Server) pingGateways(ctx context.Context) {
	every := s.cfg.OptionsInterval
	if every <= 0 {
		return
	}
	everyTick(ctx, every, func() { s.pingAll(ctx, min(every, maxOptionsWait)) })
}

// pingTarget is a gateway and the transport it is pinged over.
type pingTarget struct {
	gateway   directory.IPGateway
	plan      directory.DialPlan // one dial plan it serves over that transport
	transport string
}

// pingTargets are the gateways the outbound path may use (dialing.Gateways
// for outcalls or message waiting, of each dial plan this server serves),
// each once per transport.
func (v *view) pingTargets() []pingTarget {
	var out []pingTarget
	seen := map[string]bool{}
	for _, dp := range v.dir.DialPlans {
		if !v.serves(dp.Name) {
			continue
		}
		for _, p := range []Purpose{ForOutcall, ForMessageWaiting} {
			usable, _ := dialing.Gateways(v.dir, &dp, p)
			for _, gw := range usable {
				key := healthKey(gw.Name, gatewayTransport(&dp))
				if !seen[key] {
					seen[key] = true
					out = append(out, pingTarget{gateway: gw, plan: dp, transport: gatewayTransport(&dp)})
				}
			}
		}
	}
	return out
}

// pingAll pings every target at once, each given wait to answer.
func (s *Server) pingAll(ctx context.Context, wait time.Duration) {
	var wg sync.WaitGroup
	for _, t := range s.view.Load().pingTargets() {
		wg.Go(func() { s.ping(ctx, t, wait) })
	}
	wg.Wait()
}

// ping sends one OPTIONS to t and records whether any response came.
func (s *Server) ping(ctx context.Context, t pingTarget, wait time.Duration) {
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req := sip.NewRequest(sip.OPTIONS, gatewayURI(&t.gateway, &t.plan, ""))
	req.SetTransport(t.transport)
	_, err := s.client.Do(pctx, req)
	if err != nil && ctx.Err() != nil {
		return // the server is stopping: no verdict
	}
	attrs := []slog.Attr{slog.String("gateway", t.gateway.Name), slog.String("transport", t.transport)}
	if !s.setDown(t.gateway.Name, t.transport, err != nil) {
		return
	}
	if err != nil {
		s.cfg.Events.Emit(ctx, events.GatewayOptionsNoAnswer, "gateway does not answer OPTIONS: skipped for outbound calls",
			append(attrs, slog.String("reason", err.Error()))...)
		return
	}
	s.cfg.Events.Emit(ctx, events.GatewayAnswersAgain, "gateway answers OPTIONS again", attrs...)
	s.wg.Go(func() { s.gatewayBack(ctx, t.gateway.Name, t.transport) })
}

// GatewayNotAnswering returns the transports over which gateway did not
// answer the last OPTIONS, sorted; none when it answered or is not pinged.
// It is for the admin console.
func (s *Server) GatewayNotAnswering(gateway string) []string {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	var out []string
	for key := range s.health.down {
		if name, transport, _ := strings.Cut(key, " "); name == strings.ToLower(gateway) {
			out = append(out, transport)
		}
	}
	slices.Sort(out)
	return out
}

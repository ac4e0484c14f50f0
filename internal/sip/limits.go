package sip

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/openum/openum/internal/events"
)

// Limits bound what one source can cost the server (SPEC PEER-4). A zero
// field takes its default (see DefaultLimits).
type Limits struct {
	MaxConnsPerSource int           // open connections from one IP address
	HandshakeTimeout  time.Duration // to complete the TLS handshake
	IdleTimeout       time.Duration // a connection silent this long is closed
	MessageTimeout    time.Duration // a message must arrive whole this long after its first byte
	MaxMessageSize    int           // bytes in one SIP message
	MaxHeaders        int           // header fields in one request
	RequestRate       float64       // requests per second from one IP address
	RequestBurst      int           // requests above RequestRate allowed in a burst
	BanAfter          int           // refusals within BanWindow that ban a source
	BanWindow         time.Duration
	BanFor            time.Duration // how long a ban lasts
	MediaTimeout      time.Duration // a call whose caller sends no RTP this long is hung up
	TransferTimeout   time.Duration // how long a transfer waits for its final NOTIFY (refer.go)
	// MaxSetups bounds the new INVITEs being set up at once, all sources
	// together; past it a new INVITE gets 503 with Retry-After at once
	// (overload.go).
	MaxSetups int
}

// DefaultLimits are sized for gateways and PBXs that keep a few long-lived
// connections and send OPTIONS keep-alives every 30 to 60 seconds.
var DefaultLimits = Limits{
	MaxConnsPerSource: 32,
	HandshakeTimeout:  5 * time.Second,
	IdleTimeout:       3 * time.Minute,
	MessageTimeout:    5 * time.Second, // a gateway writes a message at once; a trickle is an attack
	MaxMessageSize:    16 << 10,
	MaxHeaders:        64,
	RequestRate:       5000, // a busy gateway sends three requests per call at 1,000 calls/s
	RequestBurst:      10000,
	BanAfter:          5,
	BanWindow:         time.Minute,
	BanFor:            10 * time.Minute,
	MediaTimeout:      30 * time.Second,
	// A PBX that rings the operator 30 s without an answer has failed the
	// caller, who goes back to the greeting.
	TransferTimeout: 30 * time.Second,
	// The longest queue of set-up work worth keeping (Little's law): 0.2 s
	// of it at PERF-2's 5,000 set-ups/s, about 1 s at the 1,000-1,500/s a
	// loaded 2-core machine manages; callers wait seconds (sipp 5 s, a
	// gateway's Timer B 32 s). A server with more is behind, and each one
	// more only waits longer, to the point where callers give up on calls
	// it still sets up. 250 refused bursts that server would have served
	// in time (bench/setup.sh 2000: 2,126 of 10,000 refused at load 7).
	MaxSetups: 1000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick(&l.MaxConnsPerSource, d.MaxConnsPerSource)
	pick(&l.HandshakeTimeout, d.HandshakeTimeout)
	pick(&l.IdleTimeout, d.IdleTimeout)
	pick(&l.MessageTimeout, d.MessageTimeout)
	pick(&l.MaxMessageSize, d.MaxMessageSize)
	pick(&l.MaxHeaders, d.MaxHeaders)
	pick(&l.RequestRate, d.RequestRate)
	pick(&l.RequestBurst, d.RequestBurst)
	pick(&l.BanAfter, d.BanAfter)
	pick(&l.BanWindow, d.BanWindow)
	pick(&l.BanFor, d.BanFor)
	pick(&l.MediaTimeout, d.MediaTimeout)
	pick(&l.TransferTimeout, d.TransferTimeout)
	pick(&l.MaxSetups, d.MaxSetups)
	return l
}

// pick sets a limit left unset (zero or less) to its default.
func pick[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// sources keeps per-source counters: open connections, request rate,
// recent refusals and bans, like Kamailio's pike and ipban together.
type sources struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	byIP    map[netip.Addr]*source
	bans    map[netip.Addr]time.Time // source → end of its ban
	tallies map[netip.Addr]*refusalTally
}

type source struct {
	conns        int
	limiter      *rate.Limiter
	refusals     int
	windowStart  time.Time
	lastActivity time.Time
	logBudgets   map[events.EventID]*logBudget // lines of refusals it may still write
}

func newSources(l Limits, now func() time.Time) *sources {
	return &sources{limits: l, now: now, byIP: map[netip.Addr]*source{}, bans: map[netip.Addr]time.Time{},
		tallies: map[netip.Addr]*refusalTally{}}
}

func (s *sources) get(ip netip.Addr) *source {
	src := s.byIP[ip]
	if src == nil {
		src = &source{limiter: rate.NewLimiter(rate.Limit(s.limits.RequestRate), s.limits.RequestBurst)}
		s.byIP[ip] = src
	}
	src.lastActivity = s.now()
	return src
}

// banned reports whether ip is banned now.
func (s *sources) banned(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.bans[ip]
	return ok && s.now().Before(until)
}

// openConn counts a new connection from ip, or says why it may not open.
func (s *sources) openConn(ip netip.Addr) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.bans[ip]; ok && s.now().Before(until) {
		return "source is banned"
	}
	src := s.get(ip)
	if src.conns >= s.limits.MaxConnsPerSource {
		return "too many connections from this source"
	}
	src.conns++
	return ""
}

func (s *sources) closeConn(ip netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src := s.byIP[ip]; src != nil && src.conns > 0 {
		src.conns--
	}
}

// allowRequest takes one request from ip's rate budget.
func (s *sources) allowRequest(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(ip).limiter.AllowN(s.now(), 1)
}

// refused counts a refusal of ip and reports whether it has just been banned.
func (s *sources) refused(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if until, ok := s.bans[ip]; ok && now.Before(until) {
		return false
	}
	src := s.get(ip)
	if now.Sub(src.windowStart) > s.limits.BanWindow {
		src.windowStart, src.refusals = now, 0
	}
	src.refusals++
	if src.refusals < s.limits.BanAfter {
		return false
	}
	s.bans[ip] = now.Add(s.limits.BanFor)
	if s.tallies[ip] == nil { // else an expired ban not yet swept: its count goes on
		s.tallies[ip] = &refusalTally{since: now}
	}
	src.refusals = 0
	return true
}

// sweep forgets idle sources and returns the bans that have expired.
func (s *sources) sweep() (expired []endedBan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for ip, until := range s.bans {
		if !now.Before(until) {
			ended := endedBan{ip: ip}
			if t := s.tallies[ip]; t != nil {
				ended.tally = *t
			}
			delete(s.bans, ip)
			delete(s.tallies, ip)
			expired = append(expired, ended)
		}
	}
	for ip, src := range s.byIP {
		if src.conns == 0 && now.Sub(src.lastActivity) > s.limits.BanWindow {
			delete(s.byIP, ip)
		}
	}
	return expired
}

package sip

// The configuration view: the directory as the server reads it, rebuilt on
// each change and swapped in whole, so a call keeps the view it began with.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// view is the configuration as the SIP layer reads it: one directory
// snapshot, this server's record, and gateways indexed for look-up. A view
// never changes; a reload builds a new one, and a call keeps the view it
// began with (SPEC SEC-4).
type view struct {
	dir    *directory.Snapshot
	server directory.Server
	byIP   map[netip.Addr]string // gateway name by IP address (configured, or its FQDN resolved)
	byFQDN map[string]string     // gateway name by lower-case FQDN
	// Other openum servers are peers too (SPEC PEER-5), known by their
	// record's name over TLS and by the addresses it resolves to over TCP.
	servers     map[string]string       // server record name by lower-case FQDN
	serversByIP map[netip.Addr]string   // server record name by IP address, where no gateway has it
	built       time.Time               // when the FQDNs were resolved (the oldest, when some were kept)
	resolved    map[string][]netip.Addr // each FQDN's addresses, by fqdnKey, for the next view to keep
	shared      []string                // gateways whose addresses collide, for event 1175
}

// Apply makes new calls follow snap; calls in progress keep the
// configuration they began with (SPEC SEC-4). A server that started with
// no dial plan opens its TLS listener when snap gives it one. On error the current
// configuration stays. Calls to Apply must not overlap (a
// directory.Watcher makes them one at a time).
func (s *Server) Apply(ctx context.Context, snap *directory.Snapshot) error {
	v, err := newView(ctx, snap, s.cfg.FQDN, s.view.Load())
	if err != nil {
		return err
	}
	if s.tlsDue(v) {
		if err := s.openTLS(ctx, v); err != nil {
			return err
		}
		s.cfg.Events.Emit(ctx, events.Listening, "listening", slog.String("transport", "TLS"), slog.String("address", s.Addrs()["TLS"].String()))
	}
	s.announce(ctx, s.view.Swap(v), v)
	return nil
}

// dnsRefresh is how often gateway and server names are resolved again for
// TCP peers.
const dnsRefresh = time.Minute

// resolveAgain builds the view again from the same snapshot when its names
// are due to be resolved again (dnsRefresh), unless Apply brought a newer
// one meanwhile.
func (s *Server) resolveAgain(ctx context.Context) {
	old := s.view.Load()
	if time.Since(old.built) < dnsRefresh {
		return
	}
	if v, err := newView(ctx, old.dir, s.cfg.FQDN, nil); err == nil && s.view.CompareAndSwap(old, v) {
		s.announce(ctx, old, v)
	}
}

// announce logs the address clashes that v has and old had not.
func (s *Server) announce(ctx context.Context, old, v *view) {
	for _, clash := range v.shared {
		if old == nil || !slices.Contains(old.shared, clash) {
			// Exchange's 1175: over TCP such a source is taken for the first gateway.
			s.cfg.Events.Emit(ctx, events.GatewaysShareAddress, "two gateways share an address", slog.String("gateways", clash))
		}
	}
}

// newView builds the view of snap for the server fqdn. The names prev
// resolved are kept, unless due again (dnsRefresh): a directory change then
// waits for no name server, only for the names it brings.
func newView(ctx context.Context, snap *directory.Snapshot, fqdn string, prev *view) (*view, error) {
	sv, err := snap.Server(fqdn)
	if err != nil {
		return nil, fmt.Errorf("sip: no server record %q in the directory (openum server set --name %s)", fqdn, fqdn)
	}
	v := &view{dir: snap, server: *sv, byIP: map[netip.Addr]string{}, byFQDN: map[string]string{},
		servers: map[string]string{}, serversByIP: map[netip.Addr]string{}, built: time.Now()}
	// Over TCP a gateway is known by its address: the one configured, or
	// those its FQDN resolves to now. A configured address comes first.
	claim := func(ip netip.Addr, gateway string) {
		if other, taken := v.byIP[ip]; !taken {
			v.byIP[ip] = gateway
		} else if other != gateway {
			v.shared = append(v.shared, fmt.Sprintf("%s and %s are both %s", other, gateway, ip))
		}
	}
	var named []directory.IPGateway
	var names []string // looked up together: the named gateways', then the servers'
	for _, g := range snap.IPGateways {
		if g.Status == directory.Disabled {
			continue
		}
		if ip, err := netip.ParseAddr(g.Address); err == nil {
			claim(ip.Unmap(), g.Name)
		} else {
			v.byFQDN[fqdnKey(g.Address)] = g.Name
			named = append(named, g)
			names = append(names, g.Address)
		}
	}
	for _, s := range snap.Servers {
		v.servers[fqdnKey(s.Name)] = s.Name
		names = append(names, s.Name)
	}
	addrs := v.resolve(ctx, names, prev)
	for i, g := range named {
		for _, a := range addrs[i] {
			claim(a.Unmap(), g.Name)
		}
	}
	// An address a gateway has stays the gateway's: a server is never
	// taken for one, nor one for a server.
	for i, s := range snap.Servers {
		for _, a := range addrs[len(named)+i] {
			if _, gateway := v.byIP[a.Unmap()]; !gateway {
				if _, taken := v.serversByIP[a.Unmap()]; !taken {
					v.serversByIP[a.Unmap()] = s.Name
				}
			}
		}
	}
	return v, nil
}

func fqdnKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// resolveTimeout bounds the name look-ups of one view together: they run
// at once, so a reload waits for the slowest name, never for their sum.
const resolveTimeout = 2 * time.Second

// resolve looks each name up, all at once, but for those prev resolved
// less than dnsRefresh ago, which it keeps; a name that does not resolve
// within resolveTimeout has no address.
func (v *view) resolve(ctx context.Context, names []string, prev *view) [][]netip.Addr {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	keep := prev != nil && time.Since(prev.built) < dnsRefresh
	out := make([][]netip.Addr, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if a, ok := prev.lookedUp(name); ok && keep {
			out[i], v.built = a, prev.built
			continue
		}
		wg.Go(func() { out[i], _ = net.DefaultResolver.LookupNetIP(ctx, "ip", name) })
	}
	wg.Wait()
	v.resolved = make(map[string][]netip.Addr, len(names))
	for i, name := range names {
		v.resolved[fqdnKey(name)] = out[i]
	}
	return out
}

// lookedUp returns the addresses name had when v was built, if v looked it
// up; a nil v looked up nothing.
func (v *view) lookedUp(name string) ([]netip.Addr, bool) {
	if v == nil {
		return nil, false
	}
	a, ok := v.resolved[fqdnKey(name)]
	return a, ok
}

// peerAt is the peer known by address ip, for TCP and UDP: a gateway, else
// an openum server.
func (v *view) peerAt(ip netip.Addr) (Peer, bool) {
	if name, ok := v.byIP[ip]; ok {
		return Peer{Gateway: name}, true
	}
	if name, ok := v.serversByIP[ip]; ok {
		return Peer{Server: name}, true
	}
	return Peer{}, false
}

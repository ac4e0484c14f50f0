package sip

// The configuration view: the directory as the server reads it, rebuilt on
// each change and swapped in whole, so a call keeps the view it began with.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
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
	built  time.Time             // when the FQDNs were resolved
	shared []string              // gateways whose addresses collide, for event 1175
}

// Reload reads the directory and makes new calls follow it; calls in
// progress keep the configuration they began with. On error the current
// configuration stays.
func (s *Server) Reload(ctx context.Context) error {
	snap, err := s.cfg.Directory.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("sip: reload: %w", err)
	}
	return s.apply(ctx, snap)
}

// refresh reloads when the directory changed, or when the gateways' names
// are due to be resolved again (dnsRefresh): the housekeeping tick is short
// and name look-ups are not free.
func (s *Server) refresh(ctx context.Context) error {
	snap, err := s.cfg.Directory.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("sip: reload: %w", err)
	}
	if old := s.view.Load(); old != nil && reflect.DeepEqual(old.dir, snap) && time.Since(old.built) < dnsRefresh {
		return nil
	}
	return s.apply(ctx, snap)
}

// dnsRefresh is how often gateway FQDNs are resolved again for TCP peers.
const dnsRefresh = time.Minute

func (s *Server) apply(ctx context.Context, snap *directory.Snapshot) error {
	v, err := newView(ctx, snap, s.cfg.FQDN)
	if err != nil {
		return err
	}
	old := s.view.Swap(v)
	for _, clash := range v.shared {
		if old == nil || !slices.Contains(old.shared, clash) {
			// Exchange's 1175: over TCP such a source is taken for the first gateway.
			s.cfg.Events.Emit(ctx, events.GatewaysShareAddress, "two gateways share an address", slog.String("gateways", clash))
		}
	}
	if s.cfg.Certs != nil {
		// A new name or pinned certificate applies without a restart.
		s.cfg.Certs.SetServer(v.server.Name, v.server.CertificateThumbprint)
	}
	return nil
}

func newView(ctx context.Context, snap *directory.Snapshot, fqdn string) (*view, error) {
	sv, err := snap.Server(fqdn)
	if err != nil {
		return nil, fmt.Errorf("sip: no server record %q in the directory (openum server set --name %s)", fqdn, fqdn)
	}
	v := &view{dir: snap, server: *sv, byIP: map[netip.Addr]string{}, byFQDN: map[string]string{}, built: time.Now()}
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
	for _, g := range snap.IPGateways {
		if g.Status == directory.Disabled {
			continue
		}
		if ip, err := netip.ParseAddr(g.Address); err == nil {
			claim(ip.Unmap(), g.Name)
		} else {
			v.byFQDN[strings.ToLower(strings.TrimSuffix(g.Address, "."))] = g.Name
			named = append(named, g)
		}
	}
	for _, g := range named {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		addrs, _ := net.DefaultResolver.LookupNetIP(rctx, "ip", g.Address)
		cancel()
		for _, a := range addrs {
			claim(a.Unmap(), g.Name)
		}
	}
	return v, nil
}

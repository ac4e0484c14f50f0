package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openum/openum/internal/events"
)

// ExpiryWarning is how long before a certificate's NotAfter the Manager
// starts warning about it, once a day (CERT-7).
const ExpiryWarning = 30 * 24 * time.Hour

// ManagerOptions configure a Manager. Only FQDN is required.
type ManagerOptions struct {
	FQDN    string      // the server's FQDN: the name its certificate must have
	Pin     string      // thumbprint pinned by the administrator; empty for none
	Events  *events.Log // where certificate events go; nil discards them
	KeyType KeyType     // key of a self-signed certificate it generates; default ECDSAP256
	// Now is the clock; default time.Now. Tests move it to see expiry.
	Now func() time.Time
}

// Manager hands the SIP layer the server's current certificate and the TLS
// configurations built on it, and keeps them current: each Check (openum
// serve's watcher calls it every second, and on SIGHUP) notices a change to
// the store made by this process or another (the openum command line), a
// new pin, a certificate that expired or became valid, and switches to the
// certificate Select then chooses.
// Handshakes take the certificate and trusted roots current when they
// start, so connections already established are not disturbed.
//
// When nothing in the store is usable, Check generates a self-signed
// certificate for the FQDN (CERT-4). Events record each certificate put in
// use (CERT-6) and expiry warnings (CERT-7).
//
// A Manager is safe for concurrent use. Its zero value is not usable: make
// one with NewManager.
type Manager struct {
	store   *Store
	events  *events.Log
	now     func() time.Time
	keyType KeyType

	current atomic.Pointer[managerState]

	mu          sync.Mutex // serialises Check and guards the fields below
	fqdn, pin   string
	fingerprint string
	contents    *Contents
	warned      map[string]time.Time // thumbprint/event ID → last expiry event
	reported    map[string]string    // event kind → last problem reported, to say it once
}

// trustOr returns the state's peer trust, or def for no state yet.
func (st *managerState) trustOr(def *PeerTrust) *PeerTrust {
	if st == nil {
		return def
	}
	return st.trust
}

// managerState is what handshakes read: replaced whole, never changed.
type managerState struct {
	cert      *Certificate
	tlsCert   *tls.Certificate
	trust     *PeerTrust
	selection *Selection
}

// NewManager loads the store, chooses the server's certificate (generating
// a self-signed one when none is usable) and records it in the events. It
// fails when no certificate can be had.
func NewManager(ctx context.Context, store *Store, opts ManagerOptions) (*Manager, error) {
	m := &Manager{
		store:    store,
		events:   opts.Events,
		now:      opts.Now,
		keyType:  opts.KeyType,
		fqdn:     opts.FQDN,
		pin:      opts.Pin,
		warned:   map[string]time.Time{},
		reported: map[string]string{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if err := m.Check(ctx); err != nil && m.current.Load() == nil {
		return nil, err
	}
	return m, nil
}

// SetServer changes the FQDN the certificate must name and the pinned
// thumbprint (empty for none), as the server's directory record says: the
// watcher of openum serve calls it on each change. The next Check applies
// it.
func (m *Manager) SetServer(fqdn, pin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fqdn, m.pin = fqdn, pin
}

// Current returns the certificate in use.
func (m *Manager) Current() *Certificate { return m.current.Load().cert }

// PeerTrust returns the trusted store as it is now, for a listener that
// verifies client certificates itself (the admin API's administrators).
func (m *Manager) PeerTrust() *PeerTrust { return m.current.Load().trust }

// Selection returns the selection that chose the certificate in use.
func (m *Manager) Selection() *Selection { return m.current.Load().selection }

// Check looks at the store now and switches to the certificate the
// selection chooses, if it changed; it generates a self-signed certificate
// when nothing is usable, and emits the expiry events that are due. On
// error the certificate in use stays.
func (m *Manager) Check(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	reloaded, err := m.reload(ctx)
	if err != nil {
		return err
	}
	now := m.now()
	sel := Select(m.contents, Policy{FQDN: m.fqdn, Pin: m.pin, Now: now})
	m.reportOnce(ctx, "pin", sel.PinProblem, events.CertificatePinUnusable, "The pinned certificate is not used: "+sel.PinProblem)

	if sel.Chosen == nil {
		sel, err = m.generate(ctx, now)
		if err != nil {
			m.reportOnce(ctx, "none", err.Error(), events.CertificateNone,
				fmt.Sprintf("No usable certificate for %s, and none could be generated: %v", m.fqdn, err))
			return err
		}
		reloaded = true
	}
	m.reportOnce(ctx, "none", "", 0, "")

	old := m.current.Load()
	changed := old == nil || old.cert.Thumbprint() != sel.Chosen.Thumbprint
	trust := old.trustOr(nil)
	if reloaded || changed {
		trust = m.contents.PeerTrust()
		if KindOf(sel.Chosen.X509) == SelfSigned {
			// The server trusts its own self-signed certificate, as Windows
			// puts Exchange's in the local Trusted Root store: the local
			// loop of test connectivity presents it. Pinned: it admits
			// exactly itself, and issues nothing.
			trust = trust.WithPinned(sel.Chosen.X509)
		}
	}
	m.current.Store(&managerState{
		cert:      sel.Chosen.Certificate,
		tlsCert:   tlsCertificate(sel.Chosen),
		trust:     trust,
		selection: sel,
	})
	switch {
	case old == nil:
		m.events.Emit(ctx, events.TLSCertificateInUse,
			fmt.Sprintf("The certificate %s is in use for TLS (%s).", sel.Chosen.Thumbprint, sel.Chosen.Verdict),
			certAttrs(sel.Chosen.X509)...)
	case changed:
		m.events.Emit(ctx, events.CertificateChanged,
			fmt.Sprintf("The certificate in use for TLS changed from %s to %s (%s).", old.cert.Thumbprint(), sel.Chosen.Thumbprint, sel.Chosen.Verdict),
			append(certAttrs(sel.Chosen.X509), slog.String("PreviousThumbprint", old.cert.Thumbprint()))...)
	}

	watch := []*Certificate{sel.Chosen.Certificate}
	if changed && old != nil {
		watch = append(watch, old.cert)
	}
	if p := m.contents.Find(m.pin); p != nil && p.Location == Personal {
		watch = append(watch, p)
	}
	m.expiryEvents(ctx, now, watch)
	return nil
}

// reload reads the store again when its files changed since the last time.
func (m *Manager) reload(ctx context.Context) (bool, error) {
	fp, err := m.store.Fingerprint()
	if err == nil && fp == m.fingerprint && m.contents != nil {
		return false, nil
	}
	var c *Contents
	if err == nil {
		c, err = m.store.Load()
	}
	if err != nil {
		m.reportOnce(ctx, "store", err.Error(), events.CertificateStoreError,
			"The certificate store could not be read; the certificate in use stays: "+err.Error())
		return false, err
	}
	m.reportOnce(ctx, "store", strings.Join(c.Problems, "; "), events.CertificateStoreError,
		"Some files of the certificate store could not be read and are ignored: "+strings.Join(c.Problems, "; "))
	m.fingerprint, m.contents = fp, c
	return true, nil
}

// generate makes a self-signed certificate when nothing is usable (CERT-4)
// and selects again.
func (m *Manager) generate(ctx context.Context, now time.Time) (*Selection, error) {
	cert, err := m.store.NewSelfSigned(SelfSignedOptions{FQDN: m.fqdn, KeyType: m.keyType, Now: now})
	if err != nil {
		return nil, err
	}
	m.events.Emit(ctx, events.CertificateSelfSigned,
		fmt.Sprintf("No usable certificate for %s: generated the self-signed certificate %s. Gateways must trust it, or import a certificate from a CA.", m.fqdn, cert.Thumbprint()),
		certAttrs(cert.X509)...)
	m.fingerprint = "" // make the reload below read the new files
	if _, err := m.reload(ctx); err != nil {
		return nil, err
	}
	sel := Select(m.contents, Policy{FQDN: m.fqdn, Pin: m.pin, Now: now})
	if sel.Chosen == nil {
		return nil, errors.New("certs: the generated certificate is not usable")
	}
	return sel, nil
}

// expiryEvents warns about each certificate that expires within
// ExpiryWarning or has expired, at most once a day each (CERT-7).
func (m *Manager) expiryEvents(ctx context.Context, now time.Time, certs []*Certificate) {
	seen := map[string]bool{}
	for _, c := range certs {
		tp := c.Thumbprint()
		left := c.X509.NotAfter.Sub(now)
		if seen[tp] || left > ExpiryWarning {
			continue
		}
		seen[tp] = true
		// Expiring and expired are counted apart, so that the day a
		// certificate expires says so at once.
		id := events.CertificateExpiring
		if left <= 0 {
			id = events.CertificateExpired
		}
		key := fmt.Sprintf("%s/%d", tp, id)
		if last, ok := m.warned[key]; ok && now.Sub(last) < 24*time.Hour {
			continue
		}
		m.warned[key] = now
		attrs := append(certAttrs(c.X509), slog.Int("DaysLeft", DaysLeft(c.X509, now)))
		if id == events.CertificateExpiring {
			m.events.Emit(ctx, id,
				fmt.Sprintf("The certificate %s expires in %d days, on %s. Renew it: openum cert request, then openum cert import.", tp, DaysLeft(c.X509, now), c.X509.NotAfter.UTC().Format(dateFormat)),
				attrs...)
		} else {
			m.events.Emit(ctx, id,
				fmt.Sprintf("The certificate %s expired on %s. Renew it, or remove it and unpin it.", tp, c.X509.NotAfter.UTC().Format(dateFormat)),
				attrs...)
		}
	}
	for key := range m.warned {
		tp, _, _ := strings.Cut(key, "/")
		if !seen[tp] && !slices.ContainsFunc(certs, func(c *Certificate) bool { return c.Thumbprint() == tp }) {
			delete(m.warned, key)
		}
	}
}

// reportOnce emits an event for a problem the first time it is seen, not
// at every Check; an empty problem clears it, so that it is reported again
// if it comes back.
func (m *Manager) reportOnce(ctx context.Context, kind, problem string, id events.EventID, msg string) {
	if problem == m.reported[kind] {
		return
	}
	m.reported[kind] = problem
	if problem != "" {
		m.events.Emit(ctx, id, msg)
	}
}

// DaysLeft counts whole days from now to cert's NotAfter, rounded down:
// -1 on the first day after expiry.
func DaysLeft(cert *x509.Certificate, now time.Time) int {
	d := cert.NotAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// certAttrs are the event attributes that identify a certificate (CERT-6).
func certAttrs(c *x509.Certificate) []slog.Attr {
	return []slog.Attr{
		slog.String("Thumbprint", Thumbprint(c)),
		slog.String("SHA256", SHA256(c)),
		slog.String("Subject", c.Subject.String()),
		slog.String("Issuer", c.Issuer.String()),
		slog.String("SerialNumber", SerialNumber(c)),
		slog.Time("NotAfter", c.NotAfter),
		slog.String("Kind", string(KindOf(c))),
	}
}

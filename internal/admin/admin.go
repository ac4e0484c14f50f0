// Package admin is openum's administration edge (SPEC OPS-3): an HTTPS
// listener, with the server's certificate from the certificate store,
// that authenticates each request by a bearer token of the directory and
// serves the health endpoints, Prometheus metrics and profiling.
//
// The handlers are small; what they read (the directory, the metrics, the
// readiness of the SIP layer) is handed in through Config, so this package
// owns no part of the server it reports on.
package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// DefaultAddr is where the admin API listens unless told otherwise: on
// loopback, so that nothing is reachable from the network by default.
const DefaultAddr = "127.0.0.1:8443"

// Config is what a Server is built from. Addr and Snapshot are required;
// Certs is required unless PlainHTTP.
type Config struct {
	Addr string // host:port to listen on; port 0 for any free port
	// PlainHTTP serves HTTP without TLS, allowed only on a loopback
	// address: there a token crosses no network.
	PlainHTTP bool
	Certs     *certs.Manager
	// Snapshot returns the directory as the server runs it, for the tokens
	// (directory.Watcher.Snapshot: a token made by the command line counts
	// within the watcher's period).
	Snapshot func(context.Context) (*directory.Snapshot, error)
	// Ready says why the server cannot take calls now, or nil: /readyz.
	Ready func(context.Context) error
	// Registry holds the metrics /metrics serves (see Metrics); nil for none.
	Registry *prometheus.Registry
	// MetricsLoopbackOpen lets a client on a loopback address scrape
	// /metrics without a token (a Prometheus agent on the same host).
	MetricsLoopbackOpen bool
	Events              *events.Log
	// Console serves the web console under /console/; nil for none.
	Console *Console
	// ClientCertRole, when set, lets an administrator's client certificate
	// authenticate without a token, with at most this role (auth_cert.go).
	ClientCertRole directory.AdminRole
	// Live serves the running server's events, calls, drain and messages
	// under /api/v1/ (live.go); nil for none.
	Live *Live
	// API serves the directory's operations under /api/v1/ (api.go); nil
	// for none.
	API *API
}

// Server is the admin API. Make one with New, run it with Serve and stop
// it with Shutdown. It is safe for concurrent use.
type Server struct {
	cfg  Config
	ln   net.Listener
	http *http.Server
	auth *authenticator
	// streams is done on Shutdown, so that long answers (an event follow,
	// a drain's wait) end instead of holding Shutdown up.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New checks cfg and opens the listener, so that a bad address or a port
// in use fails at start-up.
func New(cfg Config) (*Server, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin: --admin-listen must be ADDRESS:PORT, as 127.0.0.1:8443, not %q", cfg.Addr)
	}
	if cfg.PlainHTTP && !isLoopback(host) {
		return nil, fmt.Errorf("admin: --admin-plain-http is refused on %s: plain HTTP is allowed only on a loopback address (127.0.0.1, ::1), where a token crosses no network; drop the flag to serve HTTPS", cfg.Addr)
	}
	if !cfg.PlainHTTP && cfg.Certs == nil {
		return nil, errors.New("admin: HTTPS needs the certificate manager (Config.Certs)")
	}
	if cfg.ClientCertRole != "" && cfg.PlainHTTP {
		return nil, errors.New("admin: --admin-client-cert-role needs HTTPS: drop --admin-plain-http")
	}
	if cfg.Snapshot == nil {
		return nil, errors.New("admin: no directory (Config.Snapshot)")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, auth: newAuthenticator(cfg.Snapshot, cfg.Events)}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	if cfg.ClientCertRole != "" {
		s.auth.certs = certAuth{max: cfg.ClientCertRole, trust: cfg.Certs.PeerTrust}
	}
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		// net/http's own complaints (TLS handshake errors from scanners)
		// are no administrator's business: the events say what matters.
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	s.http.RegisterOnShutdown(s.stopStreams)
	if !cfg.PlainHTTP {
		s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cfg.Certs.GetCertificate}
		if s.auth.certs.on() {
			// Asked for, not required (a token still serves), and verified
			// by certAuth against the trust of the moment, not by crypto/tls.
			s.http.TLSConfig.ClientAuth = tls.RequestClientCert
		}
	}
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the base URL of the server, https:// unless PlainHTTP.
func (s *Server) URL() string {
	if s.cfg.PlainHTTP {
		return "http://" + s.ln.Addr().String()
	}
	return "https://" + s.ln.Addr().String()
}

// Serve answers requests until Shutdown; it emits 9601 first. It returns
// nil after Shutdown.
func (s *Server) Serve(ctx context.Context) error {
	attrs := []slog.Attr{slog.String("Address", s.URL())}
	if s.cfg.Certs != nil && !s.cfg.PlainHTTP {
		attrs = append(attrs, slog.String("Thumbprint", s.cfg.Certs.Current().Thumbprint()))
	}
	s.cfg.Events.Emit(ctx, events.AdminListening, "admin API listening", attrs...)
	var err error
	if s.cfg.PlainHTTP {
		err = s.http.Serve(s.ln)
	} else {
		err = s.http.ServeTLS(s.ln, "", "")
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("admin: %w", err)
}

// Shutdown stops accepting and waits for requests in progress until ctx
// is done.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// routes maps each path to its handler and the role it needs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Registry != nil {
		metrics := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
		mux.Handle("GET /metrics", s.auth.require(directory.RoleReadonly, s.cfg.MetricsLoopbackOpen, metrics))
	}
	// net/http/pprof's handlers, registered on this mux only: the default
	// mux, which the package's init fills, is never served.
	debug := http.NewServeMux()
	debug.HandleFunc("/debug/pprof/", pprof.Index)
	debug.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	debug.HandleFunc("/debug/pprof/profile", pprof.Profile)
	debug.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	debug.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", s.auth.require(directory.RoleAdmin, false, debug))
	if s.cfg.Console != nil {
		s.consoleRoutes(mux)
	}
	if s.cfg.Live != nil {
		s.liveRoutes(mux)
	}
	if s.cfg.API != nil {
		s.apiRoutes(mux)
	}
	// Anything else: a token is still required, so that a stranger learns
	// not even which paths exist.
	mux.Handle("/", s.auth.require(directory.RoleReadonly, false, http.NotFoundHandler()))
	return mux
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

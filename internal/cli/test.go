package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
)

// callOptions are the flags shared by test connectivity and test load:
// where to call, as whom, and how securely.
type callOptions struct {
	gateway      string
	phone        string
	secured      bool
	mediaSecured bool
	thumbprint   string
	remotePort   int
	address      string
	localIP      string
}

func (o *callOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.gateway, "gateway", "", "call through this IP gateway instead of the local loop")
	f.StringVar(&o.phone, "phone", "", "the number to call (default: the pilot of the caller's hunt group)")
	f.BoolVar(&o.secured, "secured", false, "SIP over mutual TLS to the TLS port")
	f.BoolVar(&o.mediaSecured, "media-secured", false, "offer SRTP only")
	f.StringVar(&o.thumbprint, "certificate-thumbprint", "", "the client certificate to present (default: the server's own)")
	f.IntVar(&o.remotePort, "remote-port", 0, "the port to call (default: the server's, or the gateway's)")
	f.StringVar(&o.address, "address", "127.0.0.1", "the server's address for the local loop")
	f.StringVar(&o.localIP, "local-ip", "127.0.0.1", "the address to call from")
}

// target is a call set up from callOptions, checked before anything is sent.
type target struct {
	addr       string // host:port
	serverName string // the name the server's certificate must show
	transport  string
	tls        *tls.Config // nil over TCP
	trust      *certs.PeerTrust
	clientCert *certs.Certificate
	phone      string
	localIP    netip.Addr
}

func (a *app) resolveTarget(cmd *cobra.Command, o callOptions) (*target, error) {
	snap, err := a.snapshot(cmd)
	if err != nil {
		return nil, err
	}
	sv, err := localServer(snap, nil)
	if err != nil {
		return nil, err
	}
	local, err := netip.ParseAddr(o.localIP)
	if err != nil {
		return nil, fmt.Errorf("--local-ip: %q is not an IP address", o.localIP)
	}
	t := &target{transport: "TCP", phone: o.phone, localIP: local, serverName: sv.Name}
	host, port := o.address, sv.SipTcpListeningPort
	if o.secured {
		t.transport, port = "TLS", sv.SipTlsListeningPort
	}
	if o.gateway != "" {
		gw, err := snap.IPGateway(o.gateway)
		if err != nil {
			return nil, err
		}
		host, port, t.serverName = gw.Address, gw.Port, gw.Address
	}
	if o.remotePort != 0 {
		port = o.remotePort
	}
	t.addr = net.JoinHostPort(host, strconv.Itoa(port))
	if !o.secured {
		if o.phone == "" {
			t.phone = defaultPilot(snap, func(g directory.IPGateway) bool { return g.Address == o.localIP })
		}
		return t, nil
	}
	if err := a.clientIdentity(t, sv, o.thumbprint); err != nil {
		return nil, err
	}
	if o.phone == "" {
		names := certs.Names(t.clientCert.X509)
		t.phone = defaultPilot(snap, func(g directory.IPGateway) bool {
			return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, g.Address) })
		})
	}
	return t, nil
}

// clientIdentity picks the certificate to present and the trust that
// verifies the server: the trusted store and, for the local loop, openum's
// own certificates, pinned (each admits exactly itself).
func (a *app) clientIdentity(t *target, sv *directory.Server, thumbprint string) error {
	store, err := a.certStore()
	if err != nil {
		return err
	}
	c, err := store.Load()
	if err != nil {
		return err
	}
	if thumbprint == "" {
		sel := certs.Select(c, certs.Policy{FQDN: sv.Name, Pin: sv.CertificateThumbprint, Now: time.Now()})
		if sel.Chosen == nil {
			return fmt.Errorf("no usable certificate to present: give one with --certificate-thumbprint (openum cert select explains)")
		}
		thumbprint = sel.Chosen.Thumbprint
	}
	tp, err := certs.ParseThumbprint(thumbprint)
	if err != nil {
		return err
	}
	t.clientCert = c.Find(tp)
	if t.clientCert == nil || t.clientCert.Key == nil {
		return fmt.Errorf("--certificate-thumbprint: %s is not a certificate with a private key in the personal store", tp)
	}
	var own []*x509.Certificate
	for _, p := range c.Personal {
		own = append(own, p.X509)
	}
	t.trust = c.PeerTrust().WithPinned(own...)
	id := &tls.Certificate{Certificate: [][]byte{t.clientCert.X509.Raw}, PrivateKey: t.clientCert.Key, Leaf: t.clientCert.X509}
	t.tls = &tls.Config{
		MinVersion: tls.VersionTLS12, ServerName: t.serverName, RootCAs: t.trust.Pool(),
		VerifyConnection: t.trust.VerifyConnection(x509.ExtKeyUsageServerAuth),
		// Present the certificate even when the server's list of CAs does
		// not name its issuer: the server's refusal is what the test reports.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return id, nil },
	}
	return nil
}

// defaultPilot is the pilot of the first hunt group of the first gateway
// that matches, the number a gateway would call.
func defaultPilot(s *directory.Snapshot, match func(directory.IPGateway) bool) string {
	for _, g := range s.IPGateways {
		if !match(g) {
			continue
		}
		for _, h := range s.HuntGroups {
			if directory.SameName(h.UMIPGateway, g.Name) {
				return h.PilotIdentifier
			}
		}
	}
	return ""
}

func (t *target) caller() (*sip.Caller, error) {
	return sip.NewCaller(sip.CallerConfig{Server: t.addr, Transport: t.transport, TLS: t.tls, LocalIP: t.localIP, From: "openum-test"})
}

// step is one row of test connectivity's report.
type step struct {
	Step    string
	Success bool
	Time    float64 `json:"TimeMs"`
	Detail  string
}

type connectivityReport struct {
	Target                 string
	Transport              string
	MediaSecured           bool
	Steps                  []step
	EntireOperationSuccess bool
}

func (a *app) testCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "test", Short: "Test calls: connectivity (Test-UMConnectivity) and load"}
	cmd.AddCommand(a.connectivityCommand(), a.loadCommand())
	return cmd
}

func (a *app) connectivityCommand() *cobra.Command {
	var o callOptions
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "connectivity",
		Short: "Place a real test call and report each step (SPEC OPS-2)",
		Long: `Place a real test call, as a gateway would, and report each step: the
TCP or TLS connection, the server's certificate, SIP OPTIONS, the INVITE's
answer, media both ways (RTP or SRTP), DTMF and the hang-up. The call hangs
up during the greeting, so it leaves no voice message. The exit status is 0
only when every step succeeded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout < time.Minute || timeout > 30*time.Minute {
				return fmt.Errorf("--timeout must be between 60s and 1800s, not %s", timeout)
			}
			t, err := a.resolveTarget(cmd, o)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			report := t.connectivity(ctx, o.mediaSecured)
			if err := a.printReport(report); err != nil {
				return err
			}
			if !report.EntireOperationSuccess {
				last := report.Steps[len(report.Steps)-1]
				return fmt.Errorf("test connectivity failed at %s: %s", last.Step, last.Detail)
			}
			return nil
		},
	}
	o.flags(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 600*time.Second, "give up after this long (60s to 1800s)")
	return cmd
}

// connectivity runs the steps, stopping at the first failure.
func (t *target) connectivity(ctx context.Context, mediaSecured bool) *connectivityReport {
	r := &connectivityReport{Target: t.addr, Transport: t.transport, MediaSecured: mediaSecured}
	run := func(name string, fn func() (string, error)) bool {
		start := time.Now()
		detail, err := fn()
		s := step{Step: name, Success: err == nil, Time: float64(time.Since(start).Microseconds()) / 1000, Detail: detail}
		if err != nil {
			s.Detail = err.Error()
		}
		r.Steps = append(r.Steps, s)
		return err == nil
	}
	var conn net.Conn
	ok := run("TCP connect", func() (string, error) {
		var err error
		conn, err = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: t.localIP.AsSlice()}, Timeout: 10 * time.Second}).DialContext(ctx, "tcp", t.addr)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("connected from %s", conn.LocalAddr()), nil
	})
	if ok && t.tls != nil {
		ok = run("TLS handshake", func() (string, error) { return t.handshake(ctx, conn) })
	} else if conn != nil {
		conn.Close()
	}
	if !ok {
		return r
	}
	caller, err := t.caller()
	if err != nil {
		run("SIP OPTIONS", func() (string, error) { return "", err })
		return r
	}
	defer caller.Close()
	if !run("SIP OPTIONS", func() (string, error) {
		status, err := caller.Options(ctx)
		if err == nil && status != 200 {
			err = fmt.Errorf("the server answered %d", status)
		}
		return "200 OK", err
	}) {
		return r
	}
	var call *sip.Outcall
	if !run("INVITE", func() (string, error) {
		var err error
		call, err = caller.Call(ctx, t.phone, mediaSecured)
		var rejected *sip.RejectedError
		switch {
		case errors.As(err, &rejected) && rejected.Status == 488:
			return "", fmt.Errorf("488 Not Acceptable Here: no acceptable media (the dial plan's mode needs %s)", map[bool]string{true: "RTP, not SRTP", false: "SRTP: use --media-secured"}[mediaSecured])
		case errors.As(err, &rejected):
			return "", fmt.Errorf("%d %s", rejected.Status, rejected.Reason)
		case err != nil:
			return "", err
		}
		return fmt.Sprintf("200 OK in %s, calling %q", call.Setup.Round(time.Millisecond), t.phone), nil
	}) {
		return r
	}
	defer call.Hangup(context.WithoutCancel(ctx))
	if !run("Media round trip", func() (string, error) { return mediaRoundTrip(ctx, call) }) {
		return r
	}
	if !run("DTMF", func() (string, error) {
		return "sent 5 (RFC 4733)", call.Audio.SendDigit('5')
	}) {
		return r
	}
	r.EntireOperationSuccess = run("Hang up", func() (string, error) { return "BYE answered", call.Hangup(ctx) })
	return r
}

// handshake completes TLS with openum's client certificate, checks the
// server's certificate, and waits a moment for the server to refuse ours:
// with TLS 1.3 a refused client certificate shows only after the handshake.
func (t *target) handshake(ctx context.Context, conn net.Conn) (string, error) {
	defer conn.Close()
	cfg := t.tls.Clone()
	cfg.InsecureSkipVerify = true // verified below, to name the failing step
	cfg.VerifyConnection = nil
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", fmt.Errorf("handshake failed: %w", err)
	}
	state := tc.ConnectionState()
	leaf := state.PeerCertificates[0]
	if _, err := t.trust.Verify(state.PeerCertificates, certs.PeerOptions{Usage: x509.ExtKeyUsageServerAuth, DNSName: t.serverName}); err != nil {
		return "", fmt.Errorf("server certificate %s not trusted: %w", certs.Thumbprint(leaf), err)
	}
	_ = tc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil && !isTimeout(err) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", errors.New("the server closed the connection after the handshake: it does not know a gateway by this certificate's name (unknown gateway)")
		}
		return "", fmt.Errorf("the server refused openum's client certificate %s: %w", t.clientCert.Thumbprint(), err)
	}
	return fmt.Sprintf("%s, %s; server certificate %s (%s) valid for %s; client certificate %s",
		tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), certs.Thumbprint(leaf), leaf.Subject, t.serverName,
		t.clientCert.Thumbprint()), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mediaRoundTrip sends a second of tone and counts the greeting's packets
// coming back.
func mediaRoundTrip(ctx context.Context, call *sip.Outcall) (string, error) {
	tone := make([]int16, media.SampleRate)
	for i := range tone {
		tone[i] = int16(4000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	received := 0
	done := make(chan error, 1)
	go func() { done <- call.Audio.Play(ctx, tone) }()
	timeout := time.After(3 * time.Second)
loop:
	for {
		select {
		case r, ok := <-call.Audio.Received():
			if !ok {
				break loop
			}
			if r.PCM != nil {
				received++
			}
		case <-timeout:
			break loop
		}
	}
	if err := <-done; err != nil {
		return "", err
	}
	kind := "RTP"
	if call.Local.Crypto != nil {
		kind = "SRTP (" + call.Local.Crypto.Suite + ")"
	}
	detail := fmt.Sprintf("sent 50 %s packets, received %d", kind, received)
	if received == 0 {
		return detail, fmt.Errorf("no media: %s", detail)
	}
	return detail, nil
}

func (a *app) printReport(r *connectivityReport) error {
	if a.json {
		return a.printJSON(r)
	}
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Target: %s over %s, media %s\n\n", r.Target, r.Transport, map[bool]string{true: "SRTP", false: "RTP"}[r.MediaSecured])
	fmt.Fprintln(w, "Step\tResult\tTime (ms)\tDetail")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%s\n", s.Step, map[bool]string{true: "Success", false: "Failed"}[s.Success], s.Time, s.Detail)
	}
	fmt.Fprintf(w, "\nEntireOperationSuccess: %v\n", r.EntireOperationSuccess)
	return w.Flush()
}

// loadReport sums up a load run.
type loadReport struct {
	Calls, Established, Failed int
	Failures                   map[string]int
	SetupP50, SetupP99         float64 // milliseconds
	PacketsSent                int
	Seconds                    float64
}

func (a *app) loadCommand() *cobra.Command {
	var o callOptions
	var calls int
	var duration time.Duration
	var rate float64
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Place many concurrent calls, each streaming audio, and report set-up times and failures",
		Long: `Place --calls concurrent calls, started at --rate per second, each streaming
G.711 (SRTP with --media-secured) for --duration, then hanging up. Every call
leaves a voice message, as real callers would. Measure the server's CPU and
memory beside it (bench/load.sh does).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.resolveTarget(cmd, o)
			if err != nil {
				return err
			}
			r := t.load(cmd.Context(), calls, rate, duration, o.mediaSecured)
			if a.json {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.out, "calls %d, established %d, failed %d %v\nset-up p50 %.1f ms, p99 %.1f ms\npackets sent %d in %.1f s\n",
				r.Calls, r.Established, r.Failed, r.Failures, r.SetupP50, r.SetupP99, r.PacketsSent, r.Seconds)
			return nil
		},
	}
	o.flags(cmd)
	cmd.Flags().IntVar(&calls, "calls", 10, "concurrent calls")
	cmd.Flags().DurationVar(&duration, "duration", 30*time.Second, "how long each call streams audio")
	cmd.Flags().Float64Var(&rate, "rate", 20, "calls started per second")
	return cmd
}

func (t *target) load(ctx context.Context, calls int, rate float64, duration time.Duration, mediaSecured bool) *loadReport {
	r := &loadReport{Calls: calls, Failures: map[string]int{}}
	caller, err := t.caller()
	if err != nil {
		r.Failed, r.Failures[err.Error()] = calls, calls
		return r
	}
	defer caller.Close()
	tone := make([]int16, int(duration.Seconds()*media.SampleRate))
	for i := range tone {
		tone[i] = int16(4000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	var mu sync.Mutex
	var setups []float64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range calls {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		wg.Go(func() {
			call, err := caller.Call(ctx, t.phone, mediaSecured)
			mu.Lock()
			if err != nil {
				r.Failed++
				r.Failures[err.Error()]++
				mu.Unlock()
				return
			}
			r.Established++
			setups = append(setups, float64(call.Setup.Microseconds())/1000)
			mu.Unlock()
			go func() { // the greeting: read and drop
				for range call.Audio.Received() {
				}
			}()
			_ = call.Audio.Play(ctx, tone)
			_ = call.Hangup(context.WithoutCancel(ctx))
			mu.Lock()
			r.PacketsSent += len(tone) / media.FrameSamples
			mu.Unlock()
		})
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	slices.Sort(setups)
	if n := len(setups); n > 0 {
		r.SetupP50, r.SetupP99 = setups[n/2], setups[min(n-1, n*99/100)]
	}
	return r
}

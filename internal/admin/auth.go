package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// TokenPrefix begins every admin token, so that a token pasted where it
// should not be (a log, a ticket, a repository) is recognised by secret
// scanners and by people.
const TokenPrefix = "oum_"

// tokenBytes is the randomness of a token: 256 bits.
const tokenBytes = 32

// NewToken returns a new random token and the hash the directory keeps.
func NewToken() (token, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of token. A fast hash is right here,
// unlike for a PIN: a token has 256 random bits, so nobody can guess it
// from its hash however fast the hash is, while a slow hash (argon2id, as
// PINs have) would make every request cost tens of milliseconds of CPU and
// hand a flood of bad tokens a way to load the server.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s looks like a token NewToken makes.
func wellFormed(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || base64.RawURLEncoding.DecodedLen(len(rest)) != tokenBytes {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// The failures a source may have before its requests are refused
// unchecked, and how fast it earns tries back: enough for a person who
// mistypes, far too few for guessing (which 256 bits make hopeless anyway;
// the limit keeps the log and the CPU quiet).
const (
	failureBurst = 10
	failureRate  = rate.Limit(1.0 / 6) // one more try every 6 s
	maxSources   = 4096                // sources remembered before full buckets are forgotten
)

// authenticator checks bearer tokens against the directory and limits
// failures per source, as internal/sip's limits do for SIP.
type authenticator struct {
	snapshot func(context.Context) (*directory.Snapshot, error)
	log      *events.Log
	certs    certAuth // administrators' client certificates (auth_cert.go)

	mu      sync.Mutex
	sources map[netip.Addr]*source
}

// source is what the authenticator remembers of a client that failed.
type source struct {
	failures *rate.Limiter
	logged   time.Time // when its last 9600 was written
	held     int       // 9600s held back since
}

func newAuthenticator(snapshot func(context.Context) (*directory.Snapshot, error), log *events.Log) *authenticator {
	return &authenticator{snapshot: snapshot, log: log, sources: map[netip.Addr]*source{}}
}

// require wraps h so that it runs only for a token whose role allows need;
// open lets a loopback client in without one. No token, a bad one or a
// rate-limited source get a bare 401 and a 9600 event; a good token of a
// lesser role gets 403.
func (a *authenticator) require(need directory.AdminRole, open bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := remoteIP(r)
		if open && ip.IsLoopback() {
			h.ServeHTTP(w, r)
			return
		}
		id, reason, detail := a.authenticate(r, ip)
		if reason != "" {
			a.refused(r, ip, reason, detail)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if !id.Role.Allows(need) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// Identity is who a request authenticated as: a token of the directory,
// by its bearer header or by an administrator's certificate that names it.
type Identity struct {
	Name string // the token's name: the actor of the request's changes
	Role directory.AdminRole
}

type identityKey struct{}

// IdentityOf returns the identity require found for the request of ctx;
// false for a request let in without one (loopback scraping).
func IdentityOf(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// authenticate returns who the request is, or why it is nobody: a reason
// of a few fixed words (a metric's label) and, for a certificate, the
// detail.
func (a *authenticator) authenticate(r *http.Request, ip netip.Addr) (id Identity, reason, detail string) {
	if a.limited(ip) {
		return Identity{}, "rate-limited", ""
	}
	if a.certs.on() && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		if id, detail = a.certs.identity(r.Context(), a, r.TLS.PeerCertificates); detail != "" {
			return Identity{}, "certificate", detail
		}
		return id, "", ""
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	switch {
	case auth == "":
		return Identity{}, "missing", ""
	case !ok || !strings.EqualFold(scheme, "Bearer"):
		return Identity{}, "malformed", ""
	}
	t, reason := a.check(r.Context(), token)
	if t == nil {
		return Identity{}, reason, ""
	}
	return Identity{Name: t.Name, Role: t.Role}, "", ""
}

// check returns the directory's token that token is, or why none is:
// the API's header and the console's logon form both come here.
func (a *authenticator) check(ctx context.Context, token string) (*directory.AdminToken, string) {
	if !wellFormed(token) {
		return nil, "malformed"
	}
	if t := a.lookup(ctx, HashToken(token)); t != nil {
		return t, ""
	}
	return nil, "unknown"
}

// lookup returns the directory's token whose hash is hash, or nil. The
// console's sessions keep the hash, so that a token removed ends them too.
func (a *authenticator) lookup(ctx context.Context, hash string) *directory.AdminToken {
	snap, err := a.snapshot(ctx)
	if err != nil {
		return nil
	}
	want := []byte(hash)
	var found *directory.AdminToken
	// Every token is compared, in constant time, whichever matches.
	for i, t := range snap.AdminTokens {
		if subtle.ConstantTimeCompare([]byte(t.Hash), want) == 1 {
			found = &snap.AdminTokens[i]
		}
	}
	return found
}

// limited reports whether ip has used up its failures.
func (a *authenticator) limited(ip netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sources[ip]
	return ok && s.failures.Tokens() < 1
}

// refused counts a failure of ip and logs it (9600); a rate-limited
// source's refusals are written at most once a second, the next line
// written saying how many were held back.
func (a *authenticator) refused(r *http.Request, ip netip.Addr, reason, detail string) {
	now := time.Now()
	a.mu.Lock()
	s, ok := a.sources[ip]
	if !ok {
		a.forgetQuiet()
		s = &source{failures: rate.NewLimiter(failureRate, failureBurst)}
		a.sources[ip] = s
	}
	s.failures.AllowN(now, 1)
	held := s.held
	// Each failure is written until the source is limited; then a line a
	// second at most, so that a flood does not fill the log.
	log := reason != "rate-limited" || now.Sub(s.logged) >= time.Second
	if log {
		s.logged, s.held = now, 0
	} else {
		s.held++
	}
	a.mu.Unlock()
	if !log {
		return
	}
	attrs := []slog.Attr{slog.String("Source", ip.String()), slog.String("Path", r.URL.Path), slog.String("Reason", reason)}
	if detail != "" {
		attrs = append(attrs, slog.String("Detail", detail))
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		leaf := r.TLS.PeerCertificates[0]
		attrs = append(attrs, slog.String("Thumbprint", certs.Thumbprint(leaf)), slog.String("Subject", leaf.Subject.String()))
	}
	if held > 0 {
		attrs = append(attrs, slog.Int("Suppressed", held))
	}
	a.log.Emit(r.Context(), events.AdminAuthFailed, "admin API request refused", attrs...)
}

// forgetQuiet drops the sources whose failures are all forgiven, when
// there are too many to keep; a.mu is held.
func (a *authenticator) forgetQuiet() {
	if len(a.sources) < maxSources {
		return
	}
	for ip, s := range a.sources {
		if s.failures.Tokens() >= failureBurst {
			delete(a.sources, ip)
		}
	}
}

// remoteIP is the client's address; the admin API is reached directly,
// never through a proxy, so no header is believed.
func remoteIP(r *http.Request) netip.Addr {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

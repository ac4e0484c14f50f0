package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// The console's session cookie. The __Host- prefix makes the browser keep
// it only when Secure, for this host alone and for every path: no other
// site or sub-domain can plant or read it.
const sessionCookie = "__Host-openum-session"

// How long a console session lasts: idle, and at most whatever it does.
const (
	sessionIdle = 30 * time.Minute
	sessionMax  = 12 * time.Hour
)

// session is one logged-on browser. It keeps the token's hash, never the
// token, so that a session ends when its token is removed and the memory
// holds nothing a stranger could present to the API.
type session struct {
	tokenHash string
	csrf      string // the hidden field every POST must carry
	started   time.Time
	expires   time.Time
}

// sessions are the console's sessions, in memory only: a restart logs
// everyone off, which costs a token paste.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func newSessions() *sessions { return &sessions{byID: map[string]*session{}} }

// randomID is 256 random bits, base64url.
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// start opens a session for the token of hash and returns its ID.
func (s *sessions) start(hash string, now time.Time) (string, *session) {
	id := randomID()
	se := &session{tokenHash: hash, csrf: randomID(), started: now, expires: now.Add(sessionIdle)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, old := range s.byID { // sessions are few: a sweep at each logon keeps them so
		if now.After(old.expires) {
			delete(s.byID, k)
		}
	}
	s.byID[id] = se
	return id, se
}

// get returns the live session of id and extends it, or nil.
func (s *sessions) get(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.byID[id]
	if se == nil {
		return nil
	}
	if now.After(se.expires) {
		delete(s.byID, id)
		return nil
	}
	se.expires = now.Add(sessionIdle)
	if end := se.started.Add(sessionMax); end.Before(se.expires) {
		se.expires = end
	}
	return se
}

// end forgets the session of id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// validCSRF reports whether r carries the session's CSRF field, compared
// in constant time.
func (se *session) validCSRF(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(se.csrf)) == 1
}

// setCookie gives the browser the session's ID; an empty id deletes it.
func setCookie(w http.ResponseWriter, id string) {
	c := &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMax.Seconds())}
	if id == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// securityHeaders are set on every console response: a strict CSP (no
// script at all, styles and images from this server only, forms posting
// here only, no framing), no sniffing, no referrer, no caching.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

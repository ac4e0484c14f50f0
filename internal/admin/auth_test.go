package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
)

func snapshotOf(tokens ...directory.AdminToken) func(context.Context) (*directory.Snapshot, error) {
	return func(context.Context) (*directory.Snapshot, error) {
		return &directory.Snapshot{AdminTokens: tokens}, nil
	}
}

// A source that fails failureBurst times is refused unchecked, its right
// token too, until it earns a try back; another source is not held up.
func TestFailuresAreLimitedPerSource(t *testing.T) {
	good, hash := NewToken()
	a := newAuthenticator(snapshotOf(directory.AdminToken{Name: "p", Role: directory.RoleReadonly, Hash: hash}), nil)
	h := a.require(directory.RoleReadonly, false, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func(src, token string) int {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = src
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := get("192.0.2.1:1000", good); code != 200 {
		t.Fatalf("good token: %d", code)
	}
	bad, _ := NewToken()
	for range failureBurst {
		if code := get("192.0.2.1:1000", bad); code != 401 {
			t.Fatalf("bad token: %d", code)
		}
	}
	if code := get("192.0.2.1:1001", good); code != 401 {
		t.Errorf("good token from a rate-limited source: %d, want 401", code)
	}
	if code := get("192.0.2.2:1000", good); code != 200 {
		t.Errorf("good token from another source: %d, want 200", code)
	}
}

func TestTokenShape(t *testing.T) {
	tok, hash := NewToken()
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 || !wellFormed(tok) || HashToken(tok) != hash {
		t.Fatalf("token %q, hash %q", tok, hash)
	}
	for _, s := range []string{"", "oum_", "oum_short", tok[:len(tok)-1], "xyz_" + tok[4:], tok + "A"} {
		if wellFormed(s) {
			t.Errorf("%q is taken for a token", s)
		}
	}
}

// Plain HTTP only on loopback; HTTPS anywhere.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, "localhost:0": true, "0.0.0.0:0": false, ":0": false, "192.0.2.1:8443": false} {
		s, err := New(Config{Addr: addr, PlainHTTP: true, Snapshot: snapshotOf()})
		if ok && err != nil || !ok && (err == nil || !strings.Contains(err.Error(), "only on a loopback address")) {
			t.Errorf("plain HTTP on %s: %v", addr, err)
		}
		if s != nil {
			_ = s.ln.Close()
		}
	}
}

// Free text never becomes a label: refusal reasons map to a fixed set.
func TestRefusalReasonsAreBounded(t *testing.T) {
	for why, want := range map[string]string{
		"address is not a configured gateway or server":                    "unknown_address",
		"certificate AB names evil.example, which is no enabled gateway's": "unknown_certificate",
		"source is banned": "banned",
		"something new":    "other",
	} {
		if got := refusalReason(why); got != want {
			t.Errorf("refusalReason(%q) = %q, want %q", why, got, want)
		}
	}
}

package admin

import (
	"encoding/json"
	"net/http"
)

// healthz says the process is up: it answers, so it is.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz says whether the server can take calls now, for a load balancer:
// 200, or 503 with the reason Config.Ready gives. No token is needed, so
// the reason names a condition (draining, no listener, the directory, the
// certificate), never a secret or a peer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status, body := http.StatusOK, map[string]string{"status": "ready"}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			status, body = http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
	"github.com/openum/openum/internal/playonphone"
	"github.com/openum/openum/internal/sip"
)

// Live is the running server that the admin API's live endpoints read and
// act on: its event log, its calls in progress, its drain and the voice
// messages (live_events.go, live_calls.go, live_messages.go). Set
// Config.Live to serve them.
type Live struct {
	// Directory takes the drain's change, audited with the token's name
	// as the actor.
	Directory  directory.Directory
	ServerName string      // this server's directory record, which a drain marks NoNewCalls
	SIP        *sip.Server // the calls in progress
	EventLog   string      // the event log's path
	Messages   msgstore.Store
	// PlayOnPhone places Play on Phone calls through the running server;
	// nil answers 503.
	PlayOnPhone *playonphone.Service
}

// live serves the live endpoints.
type live struct {
	cfg Live
	srv *Server
}

// liveRoutes adds the live endpoints to mux, each behind the role it
// needs. CrossOriginProtection refuses a change a browser sends from
// another site: a browser holding an administrator's certificate presents
// it to any page's request, so that request must not drain the server.
func (s *Server) liveRoutes(mux *http.ServeMux) {
	l := &live{cfg: *s.cfg.Live, srv: s}
	guard := func(need directory.AdminRole, h http.HandlerFunc) http.Handler {
		return s.auth.require(need, false, http.NewCrossOriginProtection().Handler(h))
	}
	mux.Handle("GET /api/v1/events", guard(directory.RoleReadonly, l.events))
	mux.Handle("GET /api/v1/calls", guard(directory.RoleReadonly, l.calls))
	mux.Handle("POST /api/v1/server/drain", guard(directory.RoleOperator, l.drain))
	mux.Handle("GET /api/v1/messages", guard(directory.RoleReadonly, l.messageList))
	mux.Handle("GET /api/v1/messages/{id}", guard(directory.RoleReadonly, l.messageGet))
	mux.Handle("GET /api/v1/messages/{id}/audio", guard(directory.RoleReadonly, l.messageAudio))
	mux.Handle("DELETE /api/v1/messages/{id}", guard(directory.RoleAdmin, l.messageRemove))
	mux.Handle("POST /api/v1/messages/{id}/play-on-phone", guard(directory.RoleOperator, l.playOnPhone))
}

// fieldError is a request refused for one of its fields: the API answers
// it as {"error": "...", "field": "..."}.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }

// badField refuses field for err.
func badField(field string, err error) error { return &fieldError{field, err} }

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err as a JSON body: 400 naming the field for a
// *fieldError, 404 for a message not found, status otherwise.
func writeError(w http.ResponseWriter, status int, err error) {
	body := struct {
		Error string `json:"error"`
		Field string `json:"field,omitempty"`
	}{Error: err.Error()}
	var fe *fieldError
	var nf *msgstore.NotFoundError
	switch {
	case errors.As(err, &fe):
		status, body.Field = http.StatusBadRequest, fe.field
	case errors.As(err, &nf):
		status = http.StatusNotFound
	}
	writeJSON(w, status, body)
}

// actor is the audit's actor of a change asked for by r: its token's
// name, and what was asked.
func actor(r *http.Request) directory.Actor {
	id, _ := IdentityOf(r.Context())
	return directory.Actor{User: id.Name, Command: "admin API: " + r.Method + " " + r.URL.Path}
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/ops"
)

// API is what the admin API's directory operations need (internal/ops,
// which the command line runs too): set Config.API to serve every noun
// under /api/v1/ (ops.Pattern) and the audit log at /api/v1/audit.
type API struct {
	// Directory takes the changes, audited with the token's name as the
	// actor.
	Directory directory.Directory
	// Audit are the logs GET /api/v1/audit merges: the directory's and
	// the message store's.
	Audit []ops.AuditLog
	// UsableThumbprint checks a certificate a server record is to pin
	// against this server's certificate store; nil refuses a pin.
	UsableThumbprint func(thumbprint, fqdn string) (string, error)
	// CertStore is this server's certificate store, served under
	// /api/v1/cert (api_cert.go); nil for none.
	CertStore *certs.Store
	// ServerName is this server's directory record, whose FQDN and pin
	// the store's selection follows.
	ServerName string
}

// maxParamsBody bounds a request's JSON parameters.
const maxParamsBody = 1 << 20

// apiRoutes adds each noun's operations to mux, and the audit log. Every
// route needs a token; which role depends on what is asked
// (ops.Request.Role), so it is checked once the request is read.
// CrossOriginProtection refuses a change a browser sends from another
// site, as the live endpoints do.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	api := s.cfg.API
	guard := func(h http.HandlerFunc) http.Handler {
		return s.auth.require(directory.RoleReadonly, false, http.NewCrossOriginProtection().Handler(h))
	}
	for _, n := range ops.Nouns() {
		for _, v := range ops.Verbs {
			if n.Has(v) {
				mux.Handle(ops.Pattern(n.Kind(), v), guard(s.operation(api, n.Kind(), v)))
			}
		}
	}
	// server set without a name: the record of the machine the API runs on.
	mux.Handle(strings.TrimSuffix(ops.Pattern(directory.KindServer, ops.Set), "/{name}"), guard(s.operation(api, directory.KindServer, ops.Set)))
	mux.Handle("GET "+ops.AuditPath, guard(s.audit(api)))
	if api.CertStore != nil {
		for _, v := range ops.CertVerbs {
			mux.Handle(ops.CertPattern(v), guard(s.certOperation(api, v)))
		}
	}
}

// operation serves verb on kind: the request's name, ?force=1 and JSON
// body (ops.DecodeParams) make an ops.Request, run with the token as the
// actor once its role is found to allow it.
func (s *Server) operation(api *API, kind directory.Kind, verb ops.Verb) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := ops.Request{Verb: verb, Kind: kind, Name: r.PathValue("name")}
		if f := r.URL.Query().Get("force"); f == "1" || f == "true" {
			req.Force = true
		}
		if !s.readParams(w, r, &req.Params) {
			return
		}
		a, ok := allowedActor(w, r, fmt.Sprintf("%s %s", kind, verb), req.Role(), req.Command())
		if !ok {
			return
		}
		out, err := ops.Do(r.Context(), ops.Env{Directory: api.Directory, Actor: a, UsableThumbprint: api.UsableThumbprint}, req)
		if err != nil {
			s.writeOpsError(w, r, err)
			return
		}
		status := http.StatusOK
		if verb == ops.New {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	}
}

// readParams replaces *params with the JSON body of a POST or PATCH; it
// returns false once it has answered a body that is too large or no
// parameters.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request, params *ops.Params) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPatch {
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxParamsBody))
	if err == nil {
		*params, err = ops.DecodeParams(body)
	}
	if err != nil {
		s.writeOpsError(w, r, err)
		return false
	}
	return true
}

// allowedActor returns the actor that runs command (what the audit log
// records) for the request's token, or answers 403, naming what needs
// which role, and returns false when the token's role does not allow need.
func allowedActor(w http.ResponseWriter, r *http.Request, what string, need directory.AdminRole, command string) (directory.Actor, bool) {
	id, _ := IdentityOf(r.Context())
	if !id.Role.Allows(need) {
		writeError(w, http.StatusForbidden, fmt.Errorf("admin: %s needs a token of the %s role; %q is %s", what, need, id.Name, id.Role))
		return directory.Actor{}, false
	}
	a := actor(r)
	a.Command = "admin API: " + command
	return a, true
}

// audit is GET /api/v1/audit: every change, oldest first.
func (s *Server) audit(api *API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		records, err := ops.Audit(r.Context(), api.Audit...)
		if err != nil {
			s.writeOpsError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, records)
	}
}

// errInternal is all a client learns of a failure that is no refusal.
var errInternal = errors.New("internal error")

// writeOpsError answers an operation's error in one line, with the status
// its kind calls for and the field or parameter it names. A failure of the
// store or the machine (no refusal by a rule) is a bare 500: its detail,
// which may name files and databases, goes to the event log (9602) only.
func (s *Server) writeOpsError(w http.ResponseWriter, r *http.Request, err error) {
	status, field := opsStatus(err)
	if status == http.StatusInternalServerError {
		id, _ := IdentityOf(r.Context())
		s.cfg.Events.Emit(r.Context(), events.AdminRequestFailed, "An admin API request failed inside the server.",
			slog.String("Method", r.Method), slog.String("Path", r.URL.Path), slog.String("Token", id.Name), slog.String("Error", err.Error()))
		writeError(w, status, errInternal)
		return
	}
	oneLine := errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	if field != "" {
		writeError(w, status, badField(field, oneLine))
		return
	}
	writeError(w, status, oneLine)
}

// opsStatus is the HTTP status of an operation's error, and the parameter
// (as the flag is named) or the directory field it blames.
func opsStatus(err error) (int, string) {
	var (
		param    *ops.ParamError
		field    *directory.FieldError
		notFound *directory.NotFoundError
		noCert   *certs.NotFoundError
		none     *ops.UnsupportedError
		exists   *directory.ExistsError
		inUse    *directory.InUseError
		conflict *directory.ConflictError
		tooBig   *http.MaxBytesError
		refusal  *ops.Refusal
	)
	switch {
	case errors.As(err, &param):
		return http.StatusBadRequest, param.Param
	case errors.As(err, &field):
		return http.StatusBadRequest, field.Field
	case errors.As(err, &notFound), errors.As(err, &none), errors.As(err, &noCert):
		return http.StatusNotFound, ""
	case errors.As(err, &exists), errors.As(err, &inUse), errors.As(err, &conflict):
		return http.StatusConflict, ""
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, ""
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, ""
	case errors.As(err, &refusal):
		// A refusal by a rule without a field of its own (a mailbox's
		// policy to name, a PIN the policy refuses).
		return http.StatusBadRequest, ""
	}
	return http.StatusInternalServerError, ""
}

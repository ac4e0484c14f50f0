package admin

import (
	"net/http"

	"github.com/openum/openum/internal/ops"
)

// certOperation serves a certificate verb (ops.DoCert, as openum cert
// runs it): the thumbprint from the path, the parameters from the query
// of a GET or DELETE or the JSON body of a POST, run with the token as
// the actor once its role allows it. No answer holds a private key: the
// views show none, and a PFX export is refused (ops.CertEnv.Remote).
func (s *Server) certOperation(api *API, verb ops.Verb) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := ops.CertRequest{Verb: verb, Name: r.PathValue("name"), Params: ops.Params(r.URL.Query())}
		if !s.readParams(w, r, &req.Params) {
			return
		}
		a, ok := allowedActor(w, r, "cert "+string(verb), req.Role(), req.Command())
		if !ok {
			return
		}
		out, err := ops.DoCert(r.Context(), ops.CertEnv{Store: api.CertStore, Directory: api.Directory, Server: api.ServerName,
			Events: s.cfg.Events, Actor: a, Remote: true}, req)
		if err != nil {
			s.writeOpsError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

package admin

import (
	"errors"
	"net/http"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/ops"
)

// doneMessages say what a change did, on the page it goes back to: the
// query names one by key, so that a link cannot put words on the page.
var doneMessages = map[string]string{
	"status":   "The gateway's status is changed; the running server follows within a second.",
	"unlocked": "The mailbox is unlocked and its failed logons cleared.",
	"drain":    "This server takes no new calls (NoNewCalls); calls in progress finish.",
}

// gatewayStatus sets a gateway Enabled, Disabled or NoNewCalls, as
// gateway set --status does (internal/ops).
func (c *console) gatewayStatus(r *http.Request, actor directory.Actor) (string, string, error) {
	return "status", "/console/gateways", c.operate(r, actor, ops.Request{Verb: ops.Set, Kind: directory.KindIPGateway,
		Name: r.PathValue("name"), Params: ops.Params{"status": {r.PostFormValue("status")}}})
}

// unlock lifts a mailbox's lock-out, as mailbox set-pin --unlock does.
func (c *console) unlock(r *http.Request, actor directory.Actor) (string, string, error) {
	return "unlocked", "/console/mailboxes", c.operate(r, actor, ops.Request{Verb: ops.Unlock, Kind: directory.KindMailbox, Name: r.PathValue("email")})
}

// operate runs an operation of the command line and the API, the command
// that would make it written in the audit.
func (c *console) operate(r *http.Request, actor directory.Actor, req ops.Request) error {
	if c.cfg.Directory == nil {
		return errors.New("admin: the console has no directory to change")
	}
	actor.Command = "web console: " + req.Command()
	_, err := ops.Do(r.Context(), ops.Env{Directory: c.cfg.Directory, Actor: actor}, req)
	return err
}

// drain marks this server NoNewCalls: new calls get 503 and go to another
// server, calls in progress finish.
func (c *console) drain(r *http.Request, actor directory.Actor) (string, string, error) {
	return "drain", "/console/", markNoNewCalls(r.Context(), c.cfg.Directory, c.cfg.ServerName, actor, "web console")
}

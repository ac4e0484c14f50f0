package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/logon"
)

// doneMessages say what a change did, on the page it goes back to: the
// query names one by key, so that a link cannot put words on the page.
var doneMessages = map[string]string{
	"status":   "The gateway's status is changed; the running server follows within a second.",
	"unlocked": "The mailbox is unlocked and its failed logons cleared.",
	"drain":    "This server takes no new calls (NoNewCalls); calls in progress finish.",
}

// update makes one audited directory change.
func (c *console) update(r *http.Request, actor directory.Actor, fn func(*directory.Snapshot) error) error {
	if c.cfg.Directory == nil {
		return errors.New("admin: the console has no directory to change")
	}
	_, err := c.cfg.Directory.Update(r.Context(), actor, fn)
	return err
}

// gatewayStatus sets a gateway Enabled, Disabled or NoNewCalls.
func (c *console) gatewayStatus(r *http.Request, actor directory.Actor) (string, string, error) {
	name := r.PathValue("name")
	status, err := directory.ParseEnum("status", r.PostFormValue("status"), directory.Statuses)
	if err != nil {
		return "", "", err
	}
	actor.Command = fmt.Sprintf("web console: gateway set %s --status %s", name, status)
	return "status", "/console/gateways", c.update(r, actor, func(s *directory.Snapshot) error {
		g, err := s.IPGateway(name)
		if err != nil {
			return err
		}
		g.Status = status
		return nil
	})
}

// unlock lifts a mailbox's lock-out, as mailbox set-pin --unlock does.
func (c *console) unlock(r *http.Request, actor directory.Actor) (string, string, error) {
	email := r.PathValue("email")
	actor.Command = "web console: mailbox unlock " + email
	return "unlocked", "/console/mailboxes", c.update(r, actor, func(s *directory.Snapshot) error {
		return logon.Unlock(s, email)
	})
}

// drain marks this server NoNewCalls: new calls get 503 and go to another
// server, calls in progress finish.
func (c *console) drain(r *http.Request, actor directory.Actor) (string, string, error) {
	return "drain", "/console/", markNoNewCalls(r.Context(), c.cfg.Directory, c.cfg.ServerName, actor, "web console")
}

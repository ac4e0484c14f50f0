package cli

import (
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/logon"
)

// logonService is the logon decisions of subscriber access as openum serve
// runs them: a PIN reset after LogonFailuresBeforePINReset failures is
// mailed to the mailbox's address through the spool and delivery (Maildir
// or SMTP), the one place the new PIN is written.
func logonService(dir directory.Directory, log *events.Log, spool *delivery.Spool, from string, queued func()) (*logon.Service, error) {
	return logon.New(dir, log, &delivery.PINMailer{Spool: spool, From: from, Queued: queued}, logon.Settings{})
}

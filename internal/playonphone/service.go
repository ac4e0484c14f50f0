package playonphone

import (
	"errors"

	"github.com/openum/openum/internal/dialing"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
)

// NewService returns the Service of server record server, placing calls
// through dialer (openum serve's own sip.Server, or NewDialer's) and
// counting the budgets in dir's ledger: a directory that keeps none
// refuses Play on Phone. The command line and the admin API both build
// theirs here.
func NewService(server string, dialer Dialer, msgs Messages, dir directory.Directory, log *events.Log) (*Service, error) {
	ledger, ok := dir.(dialing.Ledger)
	if !ok {
		return nil, errors.New("playonphone: this directory keeps no outcall budgets: Play on Phone is refused")
	}
	return &Service{Server: server, Dialer: dialer, Messages: msgs, Ledger: ledger, Events: log}, nil
}

package directory

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// HostName is this machine's name in lower case, the default FQDN of its
// server record; "localhost" when the system's name is not a valid host name.
func HostName() string {
	name, err := os.Hostname()
	if err != nil || !IsHostName(name) {
		return "localhost"
	}
	return strings.ToLower(name)
}

// LocalServer returns the record of the server this machine runs, the one
// rule every command follows: the one named fqdn when fqdn is given; else
// the only record; else the one named like this host (HostName). A missing
// record is a *NotFoundError naming the record looked for; several records,
// none named like this host, is an error asking which.
func (s *Snapshot) LocalServer(fqdn string) (*Server, error) {
	switch {
	case fqdn != "":
		return s.Server(fqdn)
	case len(s.Servers) == 1:
		return &s.Servers[0], nil
	}
	host := HostName()
	sv, err := s.Server(host)
	if err != nil && len(s.Servers) > 1 {
		return nil, fmt.Errorf("directory: %d servers share the directory and none is named %q, this host's name", len(s.Servers), host)
	}
	return sv, err
}

// AddLocalServer returns LocalServer(fqdn), first adding the record it
// looks for, with the defaults, when that record does not exist: the first
// run on a machine, or a new --fqdn.
func (s *Snapshot) AddLocalServer(fqdn string) (*Server, error) {
	sv, err := s.LocalServer(fqdn)
	var missing *NotFoundError
	if !errors.As(err, &missing) {
		return sv, err
	}
	if err := s.AddServer(NewServer(missing.Name)); err != nil {
		return nil, err
	}
	return s.Server(missing.Name)
}

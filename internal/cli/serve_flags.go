package cli

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/openum/openum/internal/sip"
)

// checkServeFlags refuses the flags of openum serve that sip would take
// otherwise than they read, before anything listens or is written.
func checkServeFlags(o serveOptions) error {
	if err := checkAddressFlags(o); err != nil {
		return err
	}
	return checkLimitFlags(o.limits)
}

// checkAddressFlags refuses the address flags of openum serve that would
// otherwise fail later, far from the flag (a host name looked up in DNS by
// the listener, a port the kernel rejects) or not at all until the first
// voice message is mailed (--smtp).
func checkAddressFlags(o serveOptions) error {
	if o.listen != "" && net.ParseIP(o.listen) == nil {
		// An IP, not a name: the SDP answer carries it as the media address.
		return fmt.Errorf("--listen must be an IP address, as 127.0.0.1 or ::1, not %q", o.listen)
	}
	for _, p := range []struct {
		flag string
		port int
	}{{"--sip-port", o.sipPort}, {"--tls-port", o.tlsPort}} {
		if p.port < -1 || p.port > 65535 {
			return fmt.Errorf("%s must be a port from 1 to 65535, or -1 for any free port, not %d", p.flag, p.port)
		}
	}
	if o.smtp != "" {
		host, port, err := net.SplitHostPort(o.smtp)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--smtp must be HOST:PORT, as mail.contoso.test:25, not %q", o.smtp)
		}
	}
	return nil
}

// checkLimitFlags refuses a limit of openum serve below 1: sip takes 0 or
// less as "the default", so --ban-after 0 would ban after 5 refusals and
// --max-setups -1 allow 1,000, the opposite of what was asked.
func checkLimitFlags(l sip.Limits) error {
	for _, f := range []struct {
		flag  string
		value int
	}{
		{"--max-conns-per-source", l.MaxConnsPerSource}, {"--max-message-size", l.MaxMessageSize},
		{"--max-headers", l.MaxHeaders}, {"--request-burst", l.RequestBurst},
		{"--max-setups", l.MaxSetups}, {"--ban-after", l.BanAfter},
	} {
		if f.value < 1 {
			return fmt.Errorf("%s must be at least 1, not %d", f.flag, f.value)
		}
	}
	for _, f := range []struct {
		flag  string
		value time.Duration
	}{
		{"--handshake-timeout", l.HandshakeTimeout}, {"--idle-timeout", l.IdleTimeout},
		{"--message-timeout", l.MessageTimeout}, {"--ban-for", l.BanFor},
		{"--transfer-timeout", l.TransferTimeout},
	} {
		if f.value <= 0 {
			return fmt.Errorf("%s must be a duration above 0, not %s", f.flag, f.value)
		}
	}
	if !(l.RequestRate > 0) {
		return fmt.Errorf("--request-rate must be above 0, not %g", l.RequestRate)
	}
	return nil
}

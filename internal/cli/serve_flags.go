package cli

import (
	"fmt"
	"net"
	"strconv"
)

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

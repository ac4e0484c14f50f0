package cli

import (
	"fmt"
	"math"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/testcall"
)

// checkCallFlags refuses the flags test connectivity and test load share
// that would otherwise fail far from the flag (a name looked up in DNS, a
// bind the kernel refuses, a dial to port 70000, each reported as a failed
// call) or be ignored, before the directory is read or any socket opened.
func checkCallFlags(f *pflag.FlagSet, o testcall.Options) error {
	if net.ParseIP(o.Address) == nil && !directory.IsHostName(o.Address) {
		return fmt.Errorf("--address must be an IP address or a host name, as 127.0.0.1 or um1.contoso.test (the port is --remote-port), not %q", o.Address)
	}
	if o.Gateway != "" && f.Changed("address") {
		return fmt.Errorf("--address is the local loop's: with --gateway the call goes to the gateway's address (--remote-port changes its port)")
	}
	if err := checkLocalIP(o); err != nil {
		return err
	}
	if o.RemotePort < 0 || o.RemotePort > 65535 {
		return fmt.Errorf("--remote-port must be a port from 1 to 65535, not %d", o.RemotePort)
	}
	if o.Phone != "" && !directory.IsPilotIdentifier(o.Phone) { // what a hunt group's pilot may be
		return fmt.Errorf("--phone must be a number or SIP user part (digits, letters, + * # . _ -), not %q", o.Phone)
	}
	if o.Thumbprint != "" && !o.Secured {
		return fmt.Errorf("--certificate-thumbprint needs --secured: a client certificate is presented over TLS only")
	}
	return nil
}

// checkLocalIP refuses a --local-ip that is not an address of this
// machine, where the kernel would refuse to bind each call's connection,
// and one of another family than an --address that is an IP address.
func checkLocalIP(o testcall.Options) error {
	ip := net.ParseIP(o.LocalIP)
	if ip == nil || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("--local-ip must be an IP address of this machine, as 127.0.0.1, not %q", o.LocalIP)
	}
	if !testcall.HasAddress(ip) {
		return fmt.Errorf("--local-ip must be an IP address of this machine, as 127.0.0.1: no interface has %s", ip)
	}
	if addr := net.ParseIP(o.Address); o.Gateway == "" && addr != nil && (addr.To4() == nil) != (ip.To4() == nil) {
		return fmt.Errorf("--local-ip %s cannot call --address %s: the two must be IPv4 or IPv6 alike", ip, addr)
	}
	return nil
}

// checkTimeoutFlag refuses a test connectivity --timeout outside what a
// call's steps need and an administrator would wait.
func checkTimeoutFlag(timeout time.Duration) error {
	if timeout < time.Minute || timeout > 30*time.Minute {
		return fmt.Errorf("--timeout must be between 60s and 1800s, not %s", timeout)
	}
	return nil
}

// checkLoadFlags refuses test load's own flags that would place no call,
// start every call at once, or stream less than one packet.
func checkLoadFlags(o testcall.LoadOptions) error {
	switch {
	case o.Calls < 1:
		return fmt.Errorf("--calls must be at least 1, not %d", o.Calls)
	case !(o.Rate > 0) || math.IsInf(o.Rate, 1):
		return fmt.Errorf("--rate must be above 0 calls per second, not %g", o.Rate)
	case o.Duration < 20*time.Millisecond:
		return fmt.Errorf("--duration must be at least 20ms (one packet), not %s", o.Duration)
	}
	return nil
}

package directory

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The value types of the directory's fields: enumerations, lists and port
// ranges, with how they read and write themselves.

// VoIPSecurity is a dial plan's security mode (SPEC SEC-2).
type VoIPSecurity string

// The three VoIP security modes.
const (
	Unsecured  VoIPSecurity = "Unsecured"  // SIP over TCP, RTP
	SIPSecured VoIPSecurity = "SIPSecured" // SIP over mutual TLS, RTP
	Secured    VoIPSecurity = "Secured"    // SIP over mutual TLS, SRTP
)

// VoIPSecurityModes lists the modes in canonical spelling.
var VoIPSecurityModes = []VoIPSecurity{Unsecured, SIPSecured, Secured}

// SignalingSecured reports whether the mode requires SIP over mutual TLS.
func (m VoIPSecurity) SignalingSecured() bool { return m == SIPSecured || m == Secured }

// URIType is how a dial plan's users are addressed.
type URIType string

// The URI types of a dial plan.
const (
	TelExtn URIType = "TelExtn"
	E164    URIType = "E164"
	SipName URIType = "SipName"
)

// URITypes lists the URI types in canonical spelling.
var URITypes = []URIType{TelExtn, E164, SipName}

// Status is the administrative state of a gateway or server.
type Status string

// The administrative states.
const (
	Enabled    Status = "Enabled"
	Disabled   Status = "Disabled"
	NoNewCalls Status = "NoNewCalls" // calls in progress finish, new ones are refused
)

// Statuses lists the states in canonical spelling.
var Statuses = []Status{Enabled, Disabled, NoNewCalls}

// ParseEnum returns the value of values that equals s ignoring case, so that
// "secured" reads as Secured. The error names field and the accepted values.
func ParseEnum[T ~string](field, s string, values []T) (T, error) {
	for _, v := range values {
		if strings.EqualFold(string(v), s) {
			return v, nil
		}
	}
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "", fmt.Errorf("%s must be one of %s, not %q", field, strings.Join(names, ", "), s)
}

// List is a slice that JSON writes as [] when empty, never null, so that
// scripts reading get --json see one type per key.
type List[T any] []T

// MarshalJSON writes l, or [] for an empty list.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}

// PortRange is an inclusive range of UDP ports, written "20000-29999".
type PortRange struct{ First, Last int }

// String returns the range as "first-last".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// MarshalText writes the range as "first-last".
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads "first-last".
func (r *PortRange) UnmarshalText(b []byte) error {
	p, err := ParsePortRange(string(b))
	*r = p
	return err
}

// ParsePortRange reads "first-last".
func ParsePortRange(s string) (PortRange, error) {
	var r PortRange
	if n, err := fmt.Sscanf(s, "%d-%d", &r.First, &r.Last); err != nil || n != 2 || r.String() != s {
		return PortRange{}, fmt.Errorf("must be written first-last, as 20000-29999, not %q", s)
	}
	return r, nil
}

package directory

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Validate checks every rule of SPEC DIR-1 and DIR-2 on s and returns the
// first broken one. changed names the objects a change touched: where a rule
// spans several objects (a secured dial plan reached by a gateway known only
// by its IP address), the error is told from the side of the changed object.
//
// The mailboxes, which may be a hundred thousand, are checked all only when
// changed is nil or s is not a clone of a configuration an engine read
// (Prepare's, a Snapshot's result); otherwise only those changed and those
// of a changed dial plan or policy, against the others through an index,
// so changed must then name everything that differs from that configuration.
// The other kinds, a few each, are checked whole.
func Validate(s *Snapshot, changed []Ref) error {
	for _, d := range s.DialPlans {
		if err := d.validate(); err != nil {
			return err
		}
	}
	for _, g := range s.IPGateways {
		if err := g.validate(); err != nil {
			return err
		}
	}
	for _, p := range s.MailboxPolicies {
		if err := s.validatePolicy(p); err != nil {
			return err
		}
	}
	for _, sv := range s.Servers {
		if err := s.validateServer(sv); err != nil {
			return err
		}
	}
	for _, t := range s.AdminTokens {
		if err := t.validate(); err != nil {
			return err
		}
	}
	if err := s.validateHuntGroups(changed); err != nil {
		return err
	}
	return s.validateMailboxes(changed)
}

// firstError returns the first non-nil error, so that a validator can list
// its rules in the order their errors should be reported.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func fieldErr(obj Ref, field, format string, args ...any) error {
	return &FieldError{Object: obj, Field: field, Rule: fmt.Sprintf(format, args...)}
}

// named returns the object that field of obj names, what being its kind in
// words, or the error that it names none.
func named[T any](obj Ref, field, what, name string, get func(string) (*T, error)) (*T, error) {
	v, err := get(name)
	if err != nil {
		return nil, fieldErr(obj, field, "names %s %q, which does not exist", what, name)
	}
	return v, nil
}

func inRange(obj Ref, field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fieldErr(obj, field, "must be between %d and %d, not %d", lo, hi, v)
	}
	return nil
}

func validName(obj Ref) error {
	n := obj.Name
	switch {
	case n == "":
		return fieldErr(obj, "Name", "must not be empty")
	case len(n) > 64:
		return fieldErr(obj, "Name", "must be at most 64 characters")
	case strings.TrimSpace(n) != n:
		return fieldErr(obj, "Name", "must not start or end with a space")
	case strings.ContainsFunc(n, func(r rune) bool { return unicode.IsControl(r) || r == ',' }):
		return fieldErr(obj, "Name", "must not contain commas or control characters")
	}
	return nil
}

func oneOf[T ~string](obj Ref, field string, v T, values []T) error {
	if _, err := ParseEnum(field, string(v), values); err != nil {
		return &FieldError{Object: obj, Field: field, Rule: strings.TrimPrefix(err.Error(), field+" ")}
	}
	return nil
}

var (
	digitsRE      = regexp.MustCompile(`^[0-9]+$`)
	phoneRE       = regexp.MustCompile(`^\+?[0-9]{1,32}$`)
	pilotRE       = regexp.MustCompile(`^[0-9A-Za-z+*#._-]{1,64}$`)
	hostLabelRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	maxDigitsCode = 8
)

func digitsUpTo(obj Ref, field, v string, max int) error {
	if v != "" && (!digitsRE.MatchString(v) || len(v) > max) {
		return fieldErr(obj, field, "must be up to %d digits, not %q", max, v)
	}
	return nil
}

// IsPilotIdentifier reports whether s is what a hunt group's
// PilotIdentifier may be: a number or a SIP user part.
func IsPilotIdentifier(s string) bool { return pilotRE.MatchString(s) }

// IsHostName reports whether s is a syntactically valid DNS host name.
func IsHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !hostLabelRE.MatchString(label) {
			return false
		}
	}
	// An all-numeric name would be read as an IPv4 address.
	return strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
}

func (d DialPlan) validate() error {
	obj := Ref{Kind: KindDialPlan, Name: d.Name}
	return firstError(
		validName(obj),
		inRange(obj, "NumberOfDigitsInExtension", d.NumberOfDigitsInExtension, 1, 20),
		oneOf(obj, "URIType", d.URIType, URITypes),
		oneOf(obj, "VoIPSecurity", d.VoIPSecurity, VoIPSecurityModes),
		digitsUpTo(obj, "CountryOrRegionCode", d.CountryOrRegionCode, 4),
		phoneNumbers(obj, "AccessTelephoneNumbers", d.AccessTelephoneNumbers),
		inRange(obj, "MaxCallDuration", d.MaxCallDuration, 10, 120),
		inRange(obj, "MaxRecordingDuration", d.MaxRecordingDuration, 1, 100),
		inRange(obj, "RecordingIdleTimeout", d.RecordingIdleTimeout, 2, 10),
		inRange(obj, "IdleTimeout", d.IdleTimeout, 5, 60),
		inRange(obj, "LogonFailuresBeforeDisconnect", d.LogonFailuresBeforeDisconnect, 1, 20),
		inRange(obj, "InputFailuresBeforeDisconnect", d.InputFailuresBeforeDisconnect, 1, 20),
		digitsUpTo(obj, "OutsideLineAccessCode", d.OutsideLineAccessCode, maxDigitsCode),
		digitsUpTo(obj, "InternationalAccessCode", d.InternationalAccessCode, maxDigitsCode),
		digitsUpTo(obj, "NationalNumberPrefix", d.NationalNumberPrefix, maxDigitsCode),
		ruleGroups(obj, "ConfiguredInCountryOrRegionGroups", d.ConfiguredInCountryOrRegionGroups),
		ruleGroups(obj, "ConfiguredInternationalGroups", d.ConfiguredInternationalGroups),
		groupsConfigured(obj, "AllowedInCountryOrRegionGroups", d.AllowedInCountryOrRegionGroups, d.ConfiguredInCountryOrRegionGroups, d.Name),
		groupsConfigured(obj, "AllowedInternationalGroups", d.AllowedInternationalGroups, d.ConfiguredInternationalGroups, d.Name),
		operator(obj, d.OperatorExtension),
	)
}

// operator checks OperatorExtension's form: an extension or a full number
// (NumberOfDigitsInExtension is what tells them apart). Whether a full
// number matches a dialing rule is for dialing.Operator, which openum
// dialplan asks when the setting is made and a transfer asks again.
func operator(obj Ref, number string) error {
	if number != "" && !phoneRE.MatchString(number) {
		return fieldErr(obj, "OperatorExtension", "must be an extension or a telephone number (digits, optionally after +), not %q", number)
	}
	return nil
}

func phoneNumbers(obj Ref, field string, numbers []string) error {
	for i, n := range numbers {
		if !phoneRE.MatchString(n) {
			return fieldErr(obj, field, "must hold telephone numbers (digits, optionally after +), not %q", n)
		}
		if slices.Contains(numbers[:i], n) {
			return fieldErr(obj, field, "lists %s twice", n)
		}
	}
	return nil
}

func (g IPGateway) validate() error {
	obj := Ref{Kind: KindIPGateway, Name: g.Name}
	var addrErr error
	if _, err := netip.ParseAddr(g.Address); err != nil && !IsHostName(g.Address) {
		addrErr = fieldErr(obj, "Address", "must be an IP address or an FQDN, not %q", g.Address)
	}
	return firstError(
		validName(obj),
		addrErr,
		inRange(obj, "Port", g.Port, 1, 65535),
		oneOf(obj, "Status", g.Status, Statuses),
	)
}

func (s *Snapshot) validatePolicy(p MailboxPolicy) error {
	obj := Ref{Kind: KindMailboxPolicy, Name: p.Name}
	dp, err := named(obj, "UMDialPlan", "dial plan", p.UMDialPlan, s.DialPlan)
	if err != nil {
		return err
	}
	var resetErr error
	if p.LogonFailuresBeforePINReset >= p.MaxLogonAttempts {
		resetErr = fieldErr(obj, "LogonFailuresBeforePINReset", "(%d) must be below MaxLogonAttempts (%d)",
			p.LogonFailuresBeforePINReset, p.MaxLogonAttempts)
	}
	return firstError(
		validName(obj),
		inRange(obj, "MinPINLength", p.MinPINLength, 4, 24),
		inRange(obj, "PINLifetime", p.PINLifetime, 0, 999),
		inRange(obj, "PINHistoryCount", p.PINHistoryCount, 1, 20),
		inRange(obj, "LogonFailuresBeforePINReset", p.LogonFailuresBeforePINReset, 0, 999),
		inRange(obj, "MaxLogonAttempts", p.MaxLogonAttempts, 1, 999),
		resetErr,
		inRange(obj, "MaxGreetingDuration", p.MaxGreetingDuration, 1, 10),
		inRange(obj, "MaxMessages", p.MaxMessages, 1, 10000),
		inRange(obj, "MaxMessageStorage", p.MaxMessageStorage, 1, 100000),
		inRange(obj, "DeletedMessageRetention", p.DeletedMessageRetention, 0, 3650),
		inRange(obj, "MaxOutcallsPerDay", p.MaxOutcallsPerDay, 0, 1000),
		inRange(obj, "MaxOutcallMinutesPerDay", p.MaxOutcallMinutesPerDay, 0, 1440),
		groupsConfigured(obj, "AllowedInCountryOrRegionGroups", p.AllowedInCountryOrRegionGroups, dp.ConfiguredInCountryOrRegionGroups, dp.Name),
		groupsConfigured(obj, "AllowedInternationalGroups", p.AllowedInternationalGroups, dp.ConfiguredInternationalGroups, dp.Name),
	)
}

func (s *Snapshot) validateServer(sv Server) error {
	obj := Ref{Kind: KindServer, Name: sv.Name}
	var nameErr, dpErr, portsErr error
	if !IsHostName(sv.Name) {
		nameErr = fieldErr(obj, "Name", "must be the server's FQDN, not %q", sv.Name)
	}
	for i, name := range sv.DialPlans {
		if _, dpErr = named(obj, "DialPlans", "dial plan", name, s.DialPlan); dpErr != nil {
			break
		}
		if slices.ContainsFunc(sv.DialPlans[:i], func(n string) bool { return SameName(n, name) }) {
			dpErr = fieldErr(obj, "DialPlans", "lists dial plan %s twice", name)
			break
		}
	}
	if sv.SipTcpListeningPort == sv.SipTlsListeningPort {
		portsErr = fieldErr(obj, "SipTlsListeningPort", "must differ from SipTcpListeningPort (%d)", sv.SipTcpListeningPort)
	}
	var rtpErr error
	if r := sv.RtpPortRange; r.First < 1024 || r.Last > 65535 || r.Last <= r.First {
		rtpErr = fieldErr(obj, "RtpPortRange", "must be two ports from 1024 to 65535, the first below the last, not %s", r)
	}
	return firstError(
		nameErr,
		dpErr,
		oneOf(obj, "Status", sv.Status, Statuses),
		inRange(obj, "MaxCallsAllowed", sv.MaxCallsAllowed, 1, 10000),
		inRange(obj, "SipTcpListeningPort", sv.SipTcpListeningPort, 1, 65535),
		inRange(obj, "SipTlsListeningPort", sv.SipTlsListeningPort, 1, 65535),
		portsErr,
		rtpErr,
		inRange(obj, "MaxOutcallsPerDay", sv.MaxOutcallsPerDay, 0, 100000),
		inRange(obj, "MaxOutcallMinutesPerDay", sv.MaxOutcallMinutesPerDay, 0, 1440*10000),
	)
}

func (s *Snapshot) validateHuntGroups(changed []Ref) error {
	for i, h := range s.HuntGroups {
		obj := Ref{Kind: KindHuntGroup, Name: h.Name}
		if err := validName(obj); err != nil {
			return err
		}
		gw, err := named(obj, "UMIPGateway", "gateway", h.UMIPGateway, s.IPGateway)
		if err != nil {
			return err
		}
		dp, err := named(obj, "UMDialPlan", "dial plan", h.UMDialPlan, s.DialPlan)
		if err != nil {
			return err
		}
		if h.PilotIdentifier != "" && !IsPilotIdentifier(h.PilotIdentifier) {
			return fieldErr(obj, "PilotIdentifier", "must be a number or SIP user part (digits, letters, + * # . _ -), not %q", h.PilotIdentifier)
		}
		for _, o := range s.HuntGroups[:i] {
			if SameName(o.UMIPGateway, h.UMIPGateway) && o.PilotIdentifier == h.PilotIdentifier {
				return samePilot(h, o, gw.Name, changed)
			}
		}
		if err := securedNeedsFQDN(h, gw, dp, changed); err != nil {
			return err
		}
	}
	return nil
}

// samePilot reports two hunt groups that would both answer one pilot
// number of a gateway, from the side of the one that changed.
func samePilot(a, b HuntGroup, gateway string, changed []Ref) error {
	if touched(changed, KindHuntGroup, b.Name) && !touched(changed, KindHuntGroup, a.Name) {
		a, b = b, a
	}
	obj := Ref{Kind: KindHuntGroup, Name: a.Name}
	if a.PilotIdentifier == "" {
		return fieldErr(obj, "PilotIdentifier", "is empty, but hunt group %s is already gateway %s's default hunt group", b.Name, gateway)
	}
	return fieldErr(obj, "PilotIdentifier", "%q is already hunt group %s's pilot on gateway %s", a.PilotIdentifier, b.Name, gateway)
}

// securedNeedsFQDN enforces SPEC PEER-2: a gateway used over TLS is known by
// its FQDN, since its certificate must name it.
func securedNeedsFQDN(h HuntGroup, gw *IPGateway, dp *DialPlan, changed []Ref) error {
	if !dp.VoIPSecurity.SignalingSecured() {
		return nil
	}
	if _, err := netip.ParseAddr(gw.Address); err != nil {
		return nil
	}
	switch {
	case touched(changed, KindDialPlan, dp.Name):
		return fieldErr(Ref{Kind: KindDialPlan, Name: dp.Name}, "VoIPSecurity",
			"cannot be %s while gateway %s (hunt group %s) has only the IP address %s: give the gateway its FQDN first",
			dp.VoIPSecurity, gw.Name, h.Name, gw.Address)
	case touched(changed, KindIPGateway, gw.Name):
		return fieldErr(Ref{Kind: KindIPGateway, Name: gw.Name}, "Address",
			"must be an FQDN, not the IP address %s, while hunt group %s links it to %s dial plan %s",
			gw.Address, h.Name, dp.VoIPSecurity, dp.Name)
	}
	return fieldErr(Ref{Kind: KindHuntGroup, Name: h.Name}, "UMIPGateway",
		"gateway %s has only the IP address %s, but dial plan %s is %s: a gateway of a SIPSecured or Secured dial plan needs an FQDN address",
		gw.Name, gw.Address, dp.Name, dp.VoIPSecurity)
}

// touched reports whether changed names the object.
func touched(changed []Ref, k Kind, name string) bool {
	return slices.ContainsFunc(changed, func(r Ref) bool { return r.Kind == k && SameName(r.Name, name) })
}

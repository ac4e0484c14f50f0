package ops

import (
	"slices"

	"github.com/openum/openum/internal/directory"
)

// The nouns of the directory and their parameters. Each is the Exchange
// parameter in kebab-case; references to other objects have short names
// (--dialplan, --gateway, --policy).

// DialPlans are the dial plans.
var DialPlans Noun = &noun[directory.DialPlan]{
	kind:    directory.KindDialPlan,
	verbs:   append(slices.Clone(every), Rules, RuleAdd, RuleRemove, RuleImport),
	uses:    map[Verb]string{Rules: "rule list", RuleAdd: "rule add", RuleRemove: "rule remove", RuleImport: "rule import"},
	extra:   ruleParams, // rules.go
	short:   "Dial plans: extension length, VoIP security mode, dialing rules",
	create:  func(name string, _ *directory.Snapshot) directory.DialPlan { return directory.NewDialPlan(name) },
	list:    func(s *directory.Snapshot) []directory.DialPlan { return s.DialPlans },
	get:     (*directory.Snapshot).DialPlan,
	add:     (*directory.Snapshot).AddDialPlan,
	columns: []string{"Name", "NumberOfDigitsInExtension", "URIType", "VoIPSecurity", "AccessTelephoneNumbers"},
	fields: []field[directory.DialPlan]{
		intField("number-of-digits-in-extension", "extension length, 1-20 (required)", func(d *directory.DialPlan) *int { return &d.NumberOfDigitsInExtension }),
		enumField("uri-type", directory.URITypes, func(d *directory.DialPlan) *directory.URIType { return &d.URIType }),
		enumField("voip-security", directory.VoIPSecurityModes, func(d *directory.DialPlan) *directory.VoIPSecurity { return &d.VoIPSecurity }),
		stringField("country-or-region-code", "country code, up to 4 digits", func(d *directory.DialPlan) *string { return &d.CountryOrRegionCode }),
		listField("access-telephone-numbers", "subscriber access pilot numbers", func(d *directory.DialPlan) *directory.List[string] { return &d.AccessTelephoneNumbers }),
		intField("max-call-duration", "minutes, 10-120", func(d *directory.DialPlan) *int { return &d.MaxCallDuration }),
		intField("max-recording-duration", "minutes, 1-100", func(d *directory.DialPlan) *int { return &d.MaxRecordingDuration }),
		intField("recording-idle-timeout", "seconds of silence that end a recording, 2-10", func(d *directory.DialPlan) *int { return &d.RecordingIdleTimeout }),
		intField("idle-timeout", "seconds without input before a prompt repeats, 5-60", func(d *directory.DialPlan) *int { return &d.IdleTimeout }),
		intField("logon-failures-before-disconnect", "1-20", func(d *directory.DialPlan) *int { return &d.LogonFailuresBeforeDisconnect }),
		intField("input-failures-before-disconnect", "1-20", func(d *directory.DialPlan) *int { return &d.InputFailuresBeforeDisconnect }),
		stringField("outside-line-access-code", "digits", func(d *directory.DialPlan) *string { return &d.OutsideLineAccessCode }),
		stringField("international-access-code", "digits", func(d *directory.DialPlan) *string { return &d.InternationalAccessCode }),
		stringField("national-number-prefix", "digits", func(d *directory.DialPlan) *string { return &d.NationalNumberPrefix }),
		boolField("allow-dial-plan-subscribers", "unauthenticated callers may be put through to the dial plan's mailboxes", func(d *directory.DialPlan) *bool { return &d.AllowDialPlanSubscribers }),
		boolField("allow-extensions", "unauthenticated callers may be put through to any extension", func(d *directory.DialPlan) *bool { return &d.AllowExtensions }),
		groupsField("configured-in-country-or-region-groups", func(d *directory.DialPlan) *directory.List[directory.DialingRuleGroup] {
			return &d.ConfiguredInCountryOrRegionGroups
		}),
		groupsField("configured-international-groups", func(d *directory.DialPlan) *directory.List[directory.DialingRuleGroup] {
			return &d.ConfiguredInternationalGroups
		}),
		listField("allowed-in-country-or-region-groups", "groups unauthenticated callers may dial", func(d *directory.DialPlan) *directory.List[string] { return &d.AllowedInCountryOrRegionGroups }),
		listField("allowed-international-groups", "groups unauthenticated callers may dial", func(d *directory.DialPlan) *directory.List[string] { return &d.AllowedInternationalGroups }),
		operatorField(), // last: see operatorField
	},
	required: []string{"number-of-digits-in-extension"},
}

// Gateways are the IP gateways; an operator may change their status.
var Gateways Noun = &noun[directory.IPGateway]{
	kind:     directory.KindIPGateway,
	verbs:    every,
	operator: []string{"status"},
	short:    "IP gateways and IP PBXs allowed to send calls",
	create:   func(name string, _ *directory.Snapshot) directory.IPGateway { return directory.NewIPGateway(name) },
	list:     func(s *directory.Snapshot) []directory.IPGateway { return s.IPGateways },
	get:      (*directory.Snapshot).IPGateway,
	add:      (*directory.Snapshot).AddIPGateway,
	columns:  []string{"Name", "Address", "Port", "Status", "OutcallsAllowed"},
	fields: []field[directory.IPGateway]{
		stringField("address", "IP address or FQDN (FQDN required for secured dial plans)", func(g *directory.IPGateway) *string { return &g.Address }),
		intField("port", "SIP port, 1-65535 (5061 for TLS)", func(g *directory.IPGateway) *int { return &g.Port }),
		enumField("status", directory.Statuses, func(g *directory.IPGateway) *directory.Status { return &g.Status }),
		boolField("outcalls-allowed", "may the server place calls through it", func(g *directory.IPGateway) *bool { return &g.OutcallsAllowed }),
		boolField("message-waiting-indicator-allowed", "may the server send it MWI", func(g *directory.IPGateway) *bool { return &g.MessageWaitingIndicatorAllowed }),
	},
	required: []string{"address"},
}

// HuntGroups are the hunt groups.
var HuntGroups Noun = &noun[directory.HuntGroup]{
	kind:    directory.KindHuntGroup,
	verbs:   every,
	short:   "Hunt groups: which dial plan answers a gateway's pilot number",
	create:  func(name string, _ *directory.Snapshot) directory.HuntGroup { return directory.HuntGroup{Name: name} },
	list:    func(s *directory.Snapshot) []directory.HuntGroup { return s.HuntGroups },
	get:     (*directory.Snapshot).HuntGroup,
	add:     (*directory.Snapshot).AddHuntGroup,
	columns: []string{"Name", "UMIPGateway", "UMDialPlan", "PilotIdentifier"},
	fields: []field[directory.HuntGroup]{
		stringField("gateway", "the IP gateway (required)", func(h *directory.HuntGroup) *string { return &h.UMIPGateway }),
		stringField("dialplan", "the dial plan (required)", func(h *directory.HuntGroup) *string { return &h.UMDialPlan }),
		stringField("pilot-identifier", "the number the gateway calls; empty for its default hunt group", func(h *directory.HuntGroup) *string { return &h.PilotIdentifier }),
	},
	required: []string{"gateway", "dialplan"},
}

// Policies are the mailbox policies.
var Policies Noun = &noun[directory.MailboxPolicy]{
	kind:  directory.KindMailboxPolicy,
	verbs: every,
	short: "Mailbox policies: PIN rules, logon limits, allowed dialing groups",
	create: func(name string, _ *directory.Snapshot) directory.MailboxPolicy {
		return directory.NewMailboxPolicy(name, "")
	},
	list:    func(s *directory.Snapshot) []directory.MailboxPolicy { return s.MailboxPolicies },
	get:     (*directory.Snapshot).MailboxPolicy,
	add:     (*directory.Snapshot).AddMailboxPolicy,
	columns: []string{"Name", "UMDialPlan", "MinPINLength", "PINLifetime", "MaxLogonAttempts"},
	fields: []field[directory.MailboxPolicy]{
		stringField("dialplan", "the dial plan (required)", func(p *directory.MailboxPolicy) *string { return &p.UMDialPlan }),
		intField("min-pin-length", "4-24", func(p *directory.MailboxPolicy) *int { return &p.MinPINLength }),
		intField("pin-lifetime", "days, 0-999 (0: never expires)", func(p *directory.MailboxPolicy) *int { return &p.PINLifetime }),
		intField("pin-history-count", "earlier PINs that may not be reused, 1-20", func(p *directory.MailboxPolicy) *int { return &p.PINHistoryCount }),
		boolField("allow-common-patterns", "allow PINs such as 123456, 111111 or the extension", func(p *directory.MailboxPolicy) *bool { return &p.AllowCommonPatterns }),
		intField("logon-failures-before-pin-reset", "0-999, below max-logon-attempts", func(p *directory.MailboxPolicy) *int { return &p.LogonFailuresBeforePINReset }),
		intField("max-logon-attempts", "failures before lock-out, 1-999", func(p *directory.MailboxPolicy) *int { return &p.MaxLogonAttempts }),
		intField("max-greeting-duration", "minutes, 1-10", func(p *directory.MailboxPolicy) *int { return &p.MaxGreetingDuration }),
		boolField("allow-dial-plan-subscribers", "subscribers may call others in the dial plan", func(p *directory.MailboxPolicy) *bool { return &p.AllowDialPlanSubscribers }),
		boolField("allow-extensions", "subscribers may dial extensions", func(p *directory.MailboxPolicy) *bool { return &p.AllowExtensions }),
		listField("allowed-in-country-or-region-groups", "groups subscribers may dial", func(p *directory.MailboxPolicy) *directory.List[string] { return &p.AllowedInCountryOrRegionGroups }),
		listField("allowed-international-groups", "groups subscribers may dial", func(p *directory.MailboxPolicy) *directory.List[string] { return &p.AllowedInternationalGroups }),
		intField("max-messages", "new and saved voice messages a mailbox keeps, 1-10000", func(p *directory.MailboxPolicy) *int { return &p.MaxMessages }),
		intField("max-message-storage", "megabytes of new and saved voice messages a mailbox keeps, 1-100000", func(p *directory.MailboxPolicy) *int { return &p.MaxMessageStorage }),
		intField("deleted-message-retention", "days a deleted voice message is kept before it is purged, 0-3650", func(p *directory.MailboxPolicy) *int { return &p.DeletedMessageRetention }),
		intField("max-outcalls-per-day", "calls the server may place for a mailbox a day, 0-1000", func(p *directory.MailboxPolicy) *int { return &p.MaxOutcallsPerDay }),
		intField("max-outcall-minutes-per-day", "minutes of calls the server may place for a mailbox a day, 0-1440", func(p *directory.MailboxPolicy) *int { return &p.MaxOutcallMinutesPerDay }),
		boolField("allow-call-back", "subscribers may call back a message's caller (off by default)", func(p *directory.MailboxPolicy) *bool { return &p.AllowCallBack }),
	},
	required: []string{"dialplan"},
}

// mailboxFields are the parameters of mailbox enable and set. The PIN
// has operations of its own.
var mailboxFields = []field[directory.Mailbox]{
	stringField("display-name", "the name callers hear", func(m *directory.Mailbox) *string { return &m.DisplayName }),
	stringField("dialplan", "the dial plan", func(m *directory.Mailbox) *string { return &m.UMDialPlan }),
	stringField("policy", "the mailbox policy (default: the dial plan's only policy)", func(m *directory.Mailbox) *string { return &m.UMMailboxPolicy }),
	listField("extension", "extension(s), exactly NumberOfDigitsInExtension digits", func(m *directory.Mailbox) *directory.List[string] { return &m.Extensions }),
	boolField("pin-expired", "the user must choose a new PIN at next logon", func(m *directory.Mailbox) *bool { return &m.PINExpired }),
}

var serverFields = []field[directory.Server]{
	listField("dialplans", "the dial plans this server answers", func(s *directory.Server) *directory.List[string] { return &s.DialPlans }),
	enumField("status", directory.Statuses, func(s *directory.Server) *directory.Status { return &s.Status }),
	intField("max-calls-allowed", "concurrent calls, 1-10000", func(s *directory.Server) *int { return &s.MaxCallsAllowed }),
	intField("sip-tcp-listening-port", "SIP over TCP", func(s *directory.Server) *int { return &s.SipTcpListeningPort }),
	intField("sip-tls-listening-port", "SIP over mutual TLS", func(s *directory.Server) *int { return &s.SipTlsListeningPort }),
	portRangeField("rtp-port-range", "UDP ports for media", func(s *directory.Server) *directory.PortRange { return &s.RtpPortRange }),
	intField("max-outcalls-per-day", "calls the server may place a day, all mailboxes together, 0-100000", func(s *directory.Server) *int { return &s.MaxOutcallsPerDay }),
	intField("max-outcall-minutes-per-day", "minutes of calls the server may place a day, 0-14400000", func(s *directory.Server) *int { return &s.MaxOutcallMinutesPerDay }),
	stringField("certificate-thumbprint", "pin the TLS certificate by thumbprint (must be usable); empty to let the server choose", func(s *directory.Server) *string { return &s.CertificateThumbprint }),
}

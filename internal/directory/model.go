package directory

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"
)

// Kind names a kind of directory object the way the command line does.
type Kind string

// The kinds of object the directory holds.
const (
	KindDialPlan      Kind = "dialplan"
	KindIPGateway     Kind = "gateway"
	KindHuntGroup     Kind = "huntgroup"
	KindServer        Kind = "server"
	KindMailboxPolicy Kind = "policy"
	KindMailbox       Kind = "mailbox"
)

// DialPlan groups extensions of one numbering plan and fixes the VoIP
// security mode of every call that reaches it.
type DialPlan struct {
	Name                          string
	NumberOfDigitsInExtension     int
	URIType                       URIType
	VoIPSecurity                  VoIPSecurity
	CountryOrRegionCode           string
	AccessTelephoneNumbers        List[string]
	MaxCallDuration               int // minutes
	MaxRecordingDuration          int // minutes
	RecordingIdleTimeout          int // seconds
	IdleTimeout                   int // seconds
	LogonFailuresBeforeDisconnect int
	InputFailuresBeforeDisconnect int
	OutsideLineAccessCode         string
	InternationalAccessCode       string
	NationalNumberPrefix          string
	// AllowDialPlanSubscribers and AllowExtensions are what an
	// unauthenticated caller may reach inside the dial plan: the extensions
	// of its mailboxes, and any extension (Exchange's Set-UMDialPlan).
	AllowDialPlanSubscribers          bool
	AllowExtensions                   bool
	ConfiguredInCountryOrRegionGroups List[DialingRuleGroup]
	ConfiguredInternationalGroups     List[DialingRuleGroup]
	AllowedInCountryOrRegionGroups    List[string]
	AllowedInternationalGroups        List[string]
	// OperatorExtension: where 0 transfers a caller ("" for nowhere).
	OperatorExtension string
}

// NewDialPlan returns a dial plan with the defaults of SPEC §1.
// NumberOfDigitsInExtension has no default and must be set.
func NewDialPlan(name string) DialPlan {
	return DialPlan{
		Name:                          name,
		URIType:                       TelExtn,
		VoIPSecurity:                  Unsecured,
		MaxCallDuration:               30,
		MaxRecordingDuration:          20,
		RecordingIdleTimeout:          5,
		IdleTimeout:                   10,
		LogonFailuresBeforeDisconnect: 3,
		InputFailuresBeforeDisconnect: 3,
		AllowDialPlanSubscribers:      true,
	}
}

// UnmarshalJSON reads a dial plan; a field it lacks, as a dial plan stored
// by an earlier openum lacks the fields added since, takes its default.
func (d *DialPlan) UnmarshalJSON(b []byte) error {
	type plain DialPlan // without this method
	v := plain(NewDialPlan(""))
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = DialPlan(v)
	return nil
}

// IPGateway is an IP gateway or IP PBX allowed to send calls (SPEC PEER-1).
type IPGateway struct {
	Name                           string
	Address                        string // IP address or FQDN
	Port                           int
	Status                         Status
	OutcallsAllowed                bool
	MessageWaitingIndicatorAllowed bool
}

// NewIPGateway returns a gateway with the defaults of SPEC §1.
func NewIPGateway(name string) IPGateway {
	return IPGateway{Name: name, Port: 5060, Status: Enabled, OutcallsAllowed: true, MessageWaitingIndicatorAllowed: true}
}

// HuntGroup ties calls from a gateway to a pilot number to a dial plan.
// An empty PilotIdentifier makes it the gateway's default hunt group.
type HuntGroup struct {
	Name            string
	UMIPGateway     string
	UMDialPlan      string
	PilotIdentifier string
}

// Server is one openum server: its identity, the dial plans it answers and
// its capacity.
type Server struct {
	Name                string // the server's FQDN
	DialPlans           List[string]
	Status              Status
	MaxCallsAllowed     int
	SipTcpListeningPort int
	SipTlsListeningPort int
	RtpPortRange        PortRange
	// CertificateThumbprint pins the certificate the server presents for
	// mutual TLS (SHA-1 thumbprint); empty lets it choose (SPEC CERT-5).
	CertificateThumbprint string `json:",omitempty"`
	// The outcall budget of the whole server per day (SPEC DIAL-4), above
	// every mailbox's own: what a toll-fraud ring that holds many PINs at
	// once can spend. 0 places no calls.
	MaxOutcallsPerDay       int
	MaxOutcallMinutesPerDay int
}

// NewServer returns a server record with the defaults of SPEC §1.
func NewServer(name string) Server {
	return Server{
		Name:                name,
		Status:              Enabled,
		MaxCallsAllowed:     100,
		SipTcpListeningPort: 5060,
		SipTlsListeningPort: 5061,
		RtpPortRange:        PortRange{20000, 29999},
		// 200 calls and 1000 minutes (under 17 hours) a day: ample for Play on
		// Phone and transfers at a site of some hundred mailboxes, and a bound
		// on a day's toll fraud an administrator can afford to discover late.
		MaxOutcallsPerDay:       200,
		MaxOutcallMinutesPerDay: 1000,
	}
}

// UnmarshalJSON reads a server record; a field it lacks takes its default.
func (s *Server) UnmarshalJSON(b []byte) error {
	type plain Server // without this method
	v := plain(NewServer(""))
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Server(v)
	return nil
}

// MailboxPolicy holds the PIN, logon and dialing rules shared by mailboxes.
type MailboxPolicy struct {
	Name                           string
	UMDialPlan                     string
	MinPINLength                   int
	PINLifetime                    int // days; 0 means PINs never expire
	PINHistoryCount                int
	AllowCommonPatterns            bool
	LogonFailuresBeforePINReset    int
	MaxLogonAttempts               int
	MaxGreetingDuration            int // minutes
	AllowDialPlanSubscribers       bool
	AllowExtensions                bool
	AllowedInCountryOrRegionGroups List[string]
	AllowedInternationalGroups     List[string]
	// The message store's quota and retention (SPEC UM-6). The quota counts
	// new and saved messages: a message the subscriber deleted frees its
	// room at once, though it is kept until purged.
	MaxMessages             int // voice messages a mailbox keeps
	MaxMessageStorage       int // megabytes of voice messages a mailbox keeps
	DeletedMessageRetention int // days a deleted message is kept before it is purged
	// The outcall budget of each mailbox per day (SPEC DIAL-4): calls the
	// server places for it (Play on Phone, call back) and their minutes.
	// 0 places no calls.
	MaxOutcallsPerDay       int
	MaxOutcallMinutesPerDay int
	// AllowCallBack offers to call back a message's caller from the
	// subscriber menu. Off by default: call back is how toll-fraud rings
	// have emptied PBX accounts.
	AllowCallBack bool
}

// NewMailboxPolicy returns a policy with the defaults of SPEC §1. The
// quota's defaults are Asterisk's 100 messages (maxmsg) and 200 MB, some
// three and a half hours of openum's 8 kHz 16-bit audio; the retention is
// Exchange's 14 days for deleted items. The outcall budget, 10 calls and 60
// minutes a day, covers listening to a day's messages on the phone and a
// few call backs, and holds a stolen PIN to an hour of calls a day.
func NewMailboxPolicy(name, dialPlan string) MailboxPolicy {
	return MailboxPolicy{
		Name:                        name,
		UMDialPlan:                  dialPlan,
		MinPINLength:                6,
		PINLifetime:                 60,
		PINHistoryCount:             5,
		LogonFailuresBeforePINReset: 5,
		MaxLogonAttempts:            15,
		MaxGreetingDuration:         5,
		AllowDialPlanSubscribers:    true,
		MaxMessages:                 100,
		MaxMessageStorage:           200,
		DeletedMessageRetention:     14,
		MaxOutcallsPerDay:           10,
		MaxOutcallMinutesPerDay:     60,
	}
}

// UnmarshalJSON reads a policy; a field it lacks, as a policy stored by an
// earlier openum lacks the fields added since, takes its default.
func (p *MailboxPolicy) UnmarshalJSON(b []byte) error {
	type plain MailboxPolicy // without this method
	v := plain(NewMailboxPolicy("", ""))
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = MailboxPolicy(v)
	return nil
}

// Mailbox is a UM-enabled user.
type Mailbox struct {
	EmailAddress    string
	DisplayName     string
	UMDialPlan      string
	UMMailboxPolicy string
	Extensions      List[string]
	PINExpired      bool
	LockedOut       bool
	// LogonFailures counts the consecutive failed PIN logons across calls,
	// towards the policy's LogonFailuresBeforePINReset and MaxLogonAttempts;
	// a good logon or a new PIN sets it back to 0.
	LogonFailures int
	// PIN is never part of any output: it is written only by the directory.
	PIN PINState `json:"-"`
}

// PINState is what the directory keeps of a mailbox PIN: salted slow hashes,
// never the PIN.
type PINState struct {
	Hash    string    // the current PIN's hash
	History []string  // hashes of earlier PINs, newest first
	SetAt   time.Time // when the current PIN was set, for PINLifetime
}

// clone returns a copy that shares no slices with m.
func (m Mailbox) clone() Mailbox {
	m.Extensions = slices.Clone(m.Extensions)
	m.PIN.History = slices.Clone(m.PIN.History)
	return m
}

func (d DialPlan) clone() DialPlan {
	d.AccessTelephoneNumbers = slices.Clone(d.AccessTelephoneNumbers)
	d.ConfiguredInCountryOrRegionGroups = slices.Clone(d.ConfiguredInCountryOrRegionGroups)
	d.ConfiguredInternationalGroups = slices.Clone(d.ConfiguredInternationalGroups)
	d.AllowedInCountryOrRegionGroups = slices.Clone(d.AllowedInCountryOrRegionGroups)
	d.AllowedInternationalGroups = slices.Clone(d.AllowedInternationalGroups)
	return d
}

func (s Server) clone() Server {
	s.DialPlans = slices.Clone(s.DialPlans)
	return s
}

func (p MailboxPolicy) clone() MailboxPolicy {
	p.AllowedInCountryOrRegionGroups = slices.Clone(p.AllowedInCountryOrRegionGroups)
	p.AllowedInternationalGroups = slices.Clone(p.AllowedInternationalGroups)
	return p
}

func (g IPGateway) clone() IPGateway { return g }
func (h HuntGroup) clone() HuntGroup { return h }

// same reports whether m and o are one and the same in every field, PIN
// included, as Diff asks of every mailbox of a large directory: without
// reflection, which would cost more than all else Diff does.
func (m Mailbox) same(o Mailbox) bool {
	return m.EmailAddress == o.EmailAddress && m.DisplayName == o.DisplayName &&
		m.UMDialPlan == o.UMDialPlan && m.UMMailboxPolicy == o.UMMailboxPolicy &&
		slices.Equal(m.Extensions, o.Extensions) && m.PINExpired == o.PINExpired &&
		m.LockedOut == o.LockedOut && m.LogonFailures == o.LogonFailures &&
		m.PIN.Hash == o.PIN.Hash && slices.Equal(m.PIN.History, o.PIN.History) && m.PIN.SetAt.Equal(o.PIN.SetAt)
}

// The other kinds are few: same compares them by reflection.
func (d DialPlan) same(o DialPlan) bool           { return reflect.DeepEqual(d, o) }
func (g IPGateway) same(o IPGateway) bool         { return g == o }
func (h HuntGroup) same(o HuntGroup) bool         { return h == o }
func (s Server) same(o Server) bool               { return reflect.DeepEqual(s, o) }
func (p MailboxPolicy) same(o MailboxPolicy) bool { return reflect.DeepEqual(p, o) }

// The identity of each object: its name, compared without regard to case.
func (d DialPlan) ident() string      { return d.Name }
func (g IPGateway) ident() string     { return g.Name }
func (h HuntGroup) ident() string     { return h.Name }
func (s Server) ident() string        { return s.Name }
func (p MailboxPolicy) ident() string { return p.Name }
func (m Mailbox) ident() string       { return m.EmailAddress }

// MaxPINHistory is the most PIN hashes a mailbox keeps (PINHistoryCount's
// upper bound).
const MaxPINHistory = 20

// Recent returns the hashes of the current and earlier PINs, newest first.
func (p PINState) Recent() []string {
	if p.Hash == "" {
		return p.History
	}
	return append([]string{p.Hash}, p.History...)
}

// SetPIN makes hash the mailbox's PIN hash and keeps the one it replaces in
// the history. expired forces the user to choose a new PIN at next logon.
// A new PIN unlocks the mailbox and clears its failed logons.
func (m *Mailbox) SetPIN(hash string, now time.Time, expired bool) {
	recent := m.PIN.Recent()
	m.PIN = PINState{Hash: hash, History: recent[:min(len(recent), MaxPINHistory)], SetAt: now.UTC()}
	m.PINExpired = expired
	m.LockedOut = false
	m.LogonFailures = 0
}

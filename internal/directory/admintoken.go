package directory

import (
	"regexp"
	"time"
)

// KindAdminToken is the kind of an admin API credential.
const KindAdminToken Kind = "admintoken"

// AdminRole is what an admin token may do (SPEC OPS-3).
type AdminRole string

// The roles, from least to most.
const (
	RoleReadonly AdminRole = "readonly" // read (GET) and scrape metrics
	RoleOperator AdminRole = "operator" // also the day-to-day actions
	RoleAdmin    AdminRole = "admin"    // everything, profiling included
)

// AdminRoles lists the roles from least to most.
var AdminRoles = []AdminRole{RoleReadonly, RoleOperator, RoleAdmin}

// Allows reports whether r may do what need requires: the roles are
// ordered, each allowing what the ones before it do.
func (r AdminRole) Allows(need AdminRole) bool { return rank(r) >= rank(need) && rank(need) > 0 }

func rank(r AdminRole) int {
	for i, v := range AdminRoles {
		if v == r {
			return i + 1
		}
	}
	return 0
}

// AdminToken is a credential of the admin API. The directory keeps only
// the token's hash: the token is shown once, when it is made, and cannot be
// read back. Hash is kept apart from the object's JSON, as a mailbox's PIN
// is, so that no output and no audit record carries it.
type AdminToken struct {
	Name    string
	Role    AdminRole
	Created time.Time
	Hash    string `json:"-"` // hex SHA-256 of the token
}

func (t AdminToken) clone() AdminToken      { return t }
func (t AdminToken) ident() string          { return t.Name }
func (t AdminToken) same(o AdminToken) bool { return t == o }

// AdminToken returns the named admin token.
func (s *Snapshot) AdminToken(name string) (*AdminToken, error) {
	return lookup(s.AdminTokens, KindAdminToken, name)
}

// AddAdminToken adds t; its name must be new.
func (s *Snapshot) AddAdminToken(t AdminToken) error {
	return insert(&s.AdminTokens, KindAdminToken, t)
}

var sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (t AdminToken) validate() error {
	obj := Ref{Kind: KindAdminToken, Name: t.Name}
	return firstError(
		validName(obj),
		oneOf(obj, "Role", t.Role, AdminRoles),
		func() error {
			if !sha256HexRE.MatchString(t.Hash) {
				return fieldErr(obj, "Hash", "must be a hex SHA-256")
			}
			return nil
		}(),
	)
}

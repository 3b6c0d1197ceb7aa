// Package category sorts audit events into a few kinds by their description, so a user can chart "login
// attempts by outcome" without writing patterns. The rule table is in README.md as well.
package category

import (
	"bytes"
	"strings"
)

// Categories, in the order the rules try them.
const (
	LoginFailure = "login failure"
	LoginSuccess = "login success"
	Logout       = "logout"
	LiveResponse = "live response"
	APIKey       = "api key or connector change" // #nosec G101 -- a category's name, not a credential
	UserRole     = "user or role change"
	Policy       = "policy change"
	Other        = "other"
)

// rule: a description containing any of the phrases (case-insensitively) is in the category.
type rule struct {
	category string
	phrases  []string
}

// rules are tried in order; the first that matches wins, so "Connector X logged in successfully" is a login
// and "Updated connector Y with api key Z" an API key change.
var rules = []rule{
	{LoginFailure, []string{"login failed", "failed login", "failed to log in", "authentication failed"}},
	{LoginSuccess, []string{"logged in", "login succeeded"}},
	{Logout, []string{"logged out", "logout"}},
	{LiveResponse, []string{"live response"}},
	{APIKey, []string{"api key", "connector"}},
	{UserRole, []string{"user ", "role"}},
	{Policy, []string{"policy", "policies"}},
}

// Kinds of event that the security signals tell apart within the categories, in the order their rules try
// them. An event of no kind has the empty kind.
const (
	AdminGranted        = "administrator role granted"
	LiveResponseStarted = "live response started"
	APIKeyCreated       = "api key created"
	APIKeyDeleted       = "api key deleted"
	ConnectorKeyChanged = "connector key changed"
	PolicyDeleted       = "policy deleted"
	PolicyEdited        = "policy edited"
)

var kindRules = []rule{
	{AdminGranted, []string{"to administrator", "role administrator", "administrator role granted"}},
	{LiveResponseStarted, []string{"started live response", "live response session started"}},
	{APIKeyCreated, []string{"created api key", "api key created"}},
	{APIKeyDeleted, []string{"deleted api key", "api key deleted"}},
	{ConnectorKeyChanged, []string{"updated connector", "connector key"}},
	{PolicyDeleted, []string{"deleted policy", "policy deleted", "deleted policies"}},
	{PolicyEdited, []string{"updated policy", "policy updated", "created policy", "modified policy"}},
}

// Of returns the category of an event with this description.
func Of(description string) string {
	if c := firstMatch(rules, description); c != "" {
		return c
	}
	return Other
}

// KindOf returns the kind of an event with this description, or "" when it is of none.
func KindOf(description string) string { return firstMatch(kindRules, description) }

// firstMatch is the first rule a description matches, case-insensitively; "" when none does.
func firstMatch(rules []rule, description string) string {
	var scratch [256]byte // short descriptions are lower-cased here, without an allocation
	lowered := append(scratch[:0], description...)
	if !isASCII(lowered) {
		lowered = []byte(strings.ToLower(description))
	}
	for i, c := range lowered {
		if 'A' <= c && c <= 'Z' {
			lowered[i] = c + 'a' - 'A'
		}
	}
	for _, r := range rules {
		for _, p := range r.phrases {
			if bytes.Contains(lowered, []byte(p)) {
				return r.category
			}
		}
	}
	return ""
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// Memo remembers the category of each description it has seen: audit logs repeat their descriptions, and Of
// tries every rule. Bounded to memoSize descriptions; not safe for concurrent use.
type Memo map[string]string

const memoSize = 100_000

// Of is the package's Of, remembered.
func (m Memo) Of(description string) string {
	if c, ok := m[description]; ok {
		return c
	}
	c := Of(description)
	if len(m) < memoSize {
		m[description] = c
	}
	return c
}

// All lists every category, for editors and documentation.
func All() []string {
	out := make([]string, 0, len(rules)+1)
	for _, r := range rules {
		out = append(out, r.category)
	}
	return append(out, Other)
}

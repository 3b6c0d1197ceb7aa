// Package category sorts audit events into a few kinds by their description, so a user can chart "login
// attempts by outcome" without writing patterns. The rule table is documented in the README.
package category

import "strings"

// Categories, in the order the rules try them.
const (
	LoginFailure = "login failure"
	LoginSuccess = "login success"
	Logout       = "logout"
	LiveResponse = "live response"
	APIKey       = "api key or connector change"
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

// Of returns the category of an event with this description.
func Of(description string) string {
	d := strings.ToLower(description)
	for _, r := range rules {
		for _, p := range r.phrases {
			if strings.Contains(d, p) {
				return r.category
			}
		}
	}
	return Other
}

// All lists every category, for editors and documentation.
func All() []string {
	out := make([]string, 0, len(rules)+1)
	for _, r := range rules {
		out = append(out, r.category)
	}
	return append(out, Other)
}

package cbcsim

import (
	"errors"
	"testing"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

func TestQueryLanguage(t *testing.T) {
	login := cbc.Record{Actor: "alice@acme.example", ActorIP: "10.0.0.1", Description: "Logged in successfully"}
	failed := cbc.Record{Actor: "bob@acme.example", ActorIP: "45.1.2.3", Description: "Login failed for user bob@acme.example", Flagged: true}
	connector := cbc.Record{Actor: "KX7Q2M9RTA", ActorIP: "10.0.0.2", Description: "Updated connector Splunk with api key KX7Q2M9RTA", RequestURL: "https://x/settings"}
	records := []cbc.Record{login, failed, connector}
	cases := map[string][]bool{
		``:                                       {true, true, true},
		`*`:                                      {true, true, true},
		`description:Logged in`:                  {true, false, false},
		`description:"Login failed"`:             {false, true, false},
		`"login FAILED"`:                         {false, true, false},
		`flagged:true`:                           {false, true, false},
		`NOT flagged:true`:                       {true, false, true},
		`actor_ip:10.*`:                          {true, false, true},
		`actor:alice@acme.example OR actor:bob*`: {true, true, false},
		`(connector OR failed) AND NOT actor:bob*`: {false, false, true},
		`connector AND failed`:                     {false, false, false},
		`request_url:*`:                            {true, true, true},
		`verbose:false description:updated`:        {false, false, true},
	}
	for q, want := range cases {
		m, err := parseQuery(q)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		for i, r := range records {
			if got := m(&r); got != want[i] {
				t.Errorf("%q on record %d: %v, want %v", q, i, got, want[i])
			}
		}
	}
}

func TestQuerySyntaxErrors(t *testing.T) {
	for _, q := range []string{`description:"open`, `(a OR b`, `a OR`, `AND`, `a )`, `:value`, `actor:`, `category:login`, `flagged:maybe`} {
		_, err := parseQuery(q)
		var syntax *syntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("%q: got %v, want a syntax error", q, err)
		}
	}
}

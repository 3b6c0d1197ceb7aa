package category_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

func TestRuleTable(t *testing.T) {
	cases := map[string]string{
		"Logged in successfully":                      category.LoginSuccess,
		"Connector DEFGHIJKLM logged in successfully": category.LoginSuccess,
		"john.doe@example.com logged in successfully": category.LoginSuccess,
		"Login failed for user admin@acme.example":    category.LoginFailure,
		"Logged out": category.Logout,
		"Updated connector Training with api key GRJSDHRR8YVRML3Q":  category.APIKey,
		"Created API key SIEM export with id ABCDEFGHJK":            category.APIKey,
		"Deleted API key ABCDEFGHJK":                                category.APIKey,
		"Updated role of user bob@acme.example to Analyst":          category.UserRole,
		"Added user carol@acme.example with role Read Only":         category.UserRole,
		"Updated policy 'Standard'":                                 category.Policy,
		"Deleted policy 'Developers'":                               category.Policy,
		"Started Live Response session 1234 on device WIN-FIN-0142": category.LiveResponse,
		"Ended Live Response session 1234 on device SRV-DB-02":      category.LiveResponse,
		"Updated report, 'MCRN threat feed'":                        category.Other,
		"":                                                          category.Other,
	}
	for description, want := range cases {
		if got := category.Of(description); got != want {
			t.Errorf("%q is %q, want %q", description, got, want)
		}
	}
}

func TestKindTable(t *testing.T) {
	cases := map[string]string{
		"Updated role of user bob@acme.example to Administrator":         category.AdminGranted,
		"Added user carol@acme.example with role Administrator":          category.AdminGranted,
		"Updated role of user bob@acme.example to Analyst":               "",
		"Updated role of user bob@acme.example to Live Response Analyst": "",
		"Started Live Response session 1234 on device WIN-FIN-0142":      category.LiveResponseStarted,
		"Ended Live Response session 1234 on device SRV-DB-02":           "",
		"Created API key SIEM export with id ABCDEFGHJK":                 category.APIKeyCreated,
		"Deleted API key ABCDEFGHJK":                                     category.APIKeyDeleted,
		"Updated connector Training with api key GRJSDHRR8YVRML3Q":       category.ConnectorKeyChanged,
		"Connector DEFGHIJKLM logged in successfully":                    "",
		"Deleted policy 'Developers'":                                    category.PolicyDeleted,
		"Updated policy 'Standard'":                                      category.PolicyEdited,
		"Logged in successfully":                                         "",
	}
	for description, want := range cases {
		if got := category.KindOf(description); got != want {
			t.Errorf("%q is of kind %q, want %q", description, got, want)
		}
	}
}

// Every description in the fixtures and every kind the simulator generates falls in a category other than
// "other", except the reports the simulator adds on purpose.
func TestEveryKnownDescriptionIsCategorised(t *testing.T) {
	var descriptions []string
	files, _ := filepath.Glob("../cbc/testdata/*response*.json")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Results       []struct{ Description string }
			Notifications []struct{ Description string }
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range page.Results {
			descriptions = append(descriptions, r.Description)
		}
		for _, r := range page.Notifications {
			descriptions = append(descriptions, r.Description)
		}
	}
	sim := cbcsim.New(cbcsim.Config{Seed: 1, EventsPerDay: 5000, Now: func() time.Time { return time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC) }})
	defer sim.Close()
	for _, r := range cbctest.Records(sim) {
		descriptions = append(descriptions, r.Description)
	}
	seen := map[string]int{}
	for _, d := range descriptions {
		c := category.Of(d)
		seen[c]++
		if c == category.Other && !isReport(d) {
			t.Errorf("%q has no category", d)
		}
	}
	for _, c := range category.All() {
		if seen[c] == 0 {
			t.Errorf("no known description is in category %q", c)
		}
	}
}

func isReport(d string) bool { return len(d) > 15 && d[:15] == "Updated report," }

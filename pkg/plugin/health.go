package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/queue"
	"github.com/seed/cbcauditlogs/pkg/replicas"
)

// healthDetails is the JSON Grafana shows under the health message.
type healthDetails struct {
	Problems []string         `json:"problems,omitempty"`
	Kind     string           `json:"kind,omitempty"`
	Status   int              `json:"status,omitempty"`
	Error    string           `json:"error,omitempty"`
	Queue    *queue.Status    `json:"queue,omitempty"`
	Replicas *replicas.Report `json:"replicas,omitempty"`
	SignIn   string           `json:"signIn,omitempty"`
	GeoIP    string           `json:"geoip,omitempty"`
	Signals  string           `json:"signals,omitempty"`
}

// CheckHealth validates the settings, then runs a one-row search. It never reads the queue: that would take
// events away from the drainer.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.settingsErr != nil {
		problems := splitJoined(d.settingsErr)
		return healthResult(backend.HealthStatusError, "Settings need attention: "+strings.Join(problems, "; "), healthDetails{Problems: problems}), nil
	}
	_, err := d.client.Page(ctx, cbc.SearchRequest{Rows: 1})
	drain := d.queueStatus()
	if err == nil && drain.Stopped == "" {
		message := "Connected to Carbon Black Cloud: audit log search works for org " + d.settings.OrgKey
		if notice := drain.IncompleteNotice(); notice != "" {
			message += ". Live queue: " + notice
		}
		details := healthDetails{Queue: &drain, SignIn: d.client.SignIn()}
		if details.SignIn != "" {
			message += ". Signed in through Cloud Services: " + details.SignIn
		}
		if d.replicas != nil {
			message += d.replicasHealth(ctx, &details)
		}
		if _, err := d.settings.Profile(); err != nil {
			details.Signals = err.Error()
			return healthResult(backend.HealthStatusError, message+". But the security signals' settings: "+err.Error()+
				". Searches, counts and the live queue work; signals queries are refused until it is fixed", details), nil
		}
		if err := d.geoipProblem(); err != nil {
			details.GeoIP = err.Error()
			return healthResult(backend.HealthStatusError, message+". But GeoIP: "+err.Error()+
				". Searches and counts work; addresses are placed once the database can be read", details), nil
		}
		return healthResult(backend.HealthStatusOk, message, details), nil
	}
	if err == nil {
		return healthResult(backend.HealthStatusError, "Audit log search works, but the live queue drain has stopped: "+drain.Stopped, healthDetails{Queue: &drain}), nil
	}
	status, _ := classify(err)
	details := healthDetails{Error: err.Error(), Queue: &drain, Status: int(status)}
	var apiErr *cbc.Error
	if errors.As(err, &apiErr) {
		details.Kind = kindName(apiErr.Kind)
	}
	message := healthMessage(err, d.settings.OrgKey)
	if d.settings.AuthType != models.AuthAPIKey && cbc.KindOf(err) == cbc.KindUnauthorized {
		message = "Signing in failed: " + err.Error() // names the step: the token exchange, or CBC refusing the token
	}
	return healthResult(backend.HealthStatusError, message, details), nil
}

// geoipProblem is what is wrong with the GeoIP databases the settings name: one that could not be opened, or
// one that cannot be read now.
func (d *Datasource) geoipProblem() error {
	if d.placesErr != nil {
		return d.placesErr
	}
	if d.places != nil {
		return d.places.Check()
	}
	return nil
}

// replicasHealth says how the shared queue of several Grafana replicas is: Redis reachable, and which replica
// drains.
func (d *Datasource) replicasHealth(ctx context.Context, details *healthDetails) string {
	report := d.replicas.Report()
	details.Replicas = &report
	return ". " + d.replicas.Health(ctx)
}

func healthResult(status backend.HealthStatus, message string, details healthDetails) *backend.CheckHealthResult {
	raw, _ := json.Marshal(details)
	return &backend.CheckHealthResult{Status: status, Message: message, JSONDetails: raw}
}

// healthMessage says what a failed probe means for the settings the user just saved.
func healthMessage(err error, orgKey string) string {
	switch cbc.KindOf(err) {
	case cbc.KindUnauthorized:
		return "API key invalid: Carbon Black Cloud refused the API ID and secret (401). Check both, and whether the key was revoked"
	case cbc.KindForbidden, cbc.KindNotFound:
		status := map[cbc.Kind]string{cbc.KindForbidden: "403", cbc.KindNotFound: "404"}[cbc.KindOf(err)]
		return "Carbon Black Cloud refused the test search for org " + orgKey + " (" + status + "). Either the org key is wrong " +
			"(copy it from Settings > API Access in the Carbon Black Cloud console), or the API key lacks READ on org.audits " +
			"(give its access level READ on org.audits, and on jobs.status for exports)"
	case cbc.KindRateLimited:
		return "Carbon Black Cloud is rate limiting this API key (429); try again shortly. " + err.Error()
	case cbc.KindUnreachable:
		return "Cannot reach Carbon Black Cloud: " + err.Error()
	default:
		return "The test search failed: " + err.Error()
	}
}

func kindName(k cbc.Kind) string {
	return map[cbc.Kind]string{
		cbc.KindQuerySyntax: "query_syntax", cbc.KindBadRequest: "bad_request", cbc.KindUnauthorized: "unauthorized",
		cbc.KindForbidden: "forbidden", cbc.KindNotFound: "not_found", cbc.KindConflict: "conflict",
		cbc.KindRateLimited: "rate_limited", cbc.KindServer: "server_error", cbc.KindUnreachable: "unreachable",
		cbc.KindMalformed: "malformed_response",
	}[k]
}

// splitJoined lists the errors inside an errors.Join.
func splitJoined(err error) []string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

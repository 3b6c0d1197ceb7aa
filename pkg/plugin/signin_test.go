package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
	"github.com/seed/cbcauditlogs/pkg/cbctest"
)

const (
	simAppID     = "grafana-oauth-app"
	simAppSecret = "SIMULATORAPPSECRET000001"
	simAPIToken  = "SIMULATORAPITOKEN0000000000000001"
)

// signIn makes a data source that signs in as jsonData and secure say, through the simulator's Cloud Services.
func (f *fixture) signIn(t *testing.T, jsonData map[string]any, secure map[string]string) *Datasource {
	t.Helper()
	settings := map[string]any{"cspUrl": f.url}
	for k, v := range f.json {
		settings[k] = v
	}
	for k, v := range jsonData {
		settings[k] = v
	}
	raw, _ := json.Marshal(settings)
	inst, err := NewFactory(prometheus.NewRegistry()).NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "cbc-signin", JSONData: raw, DecryptedSecureJSONData: secure,
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*Datasource)
	t.Cleanup(ds.Dispose)
	return ds
}

// Each way CBC signs in passes the health check; each way it fails says which step failed and what to do.
func TestEveryCredentialType(t *testing.T) {
	f := newFixture(t, cbcsim.Config{EventsPerDay: 50}, nil)
	host := strings.TrimPrefix(f.url, "http://")
	cases := []struct {
		name   string
		json   map[string]any
		secure map[string]string
		ok     bool
		want   []string
	}{
		{"API key", map[string]any{"authType": "apiKey"}, map[string]string{"apiSecret": simSecret}, true, nil},
		{"OAuth app", map[string]any{"authType": "oauthApp", "clientId": simAppID}, map[string]string{"clientSecret": simAppSecret}, true, nil},
		{"API token", map[string]any{"authType": "apiToken"}, map[string]string{"apiToken": simAPIToken}, true, nil},
		{"wrong client secret", map[string]any{"authType": "oauthApp", "clientId": simAppID}, map[string]string{"clientSecret": "WRONG"},
			false, []string{"OAuth app sign-in refused (401) at " + host, "invalid_client", "check the client ID and client secret"}},
		{"revoked API token", map[string]any{"authType": "apiToken"}, map[string]string{"apiToken": "SIMULATORAPITOKEN000000000REVOKED"},
			false, []string{"API token exchange refused (400) at " + host, "was revoked", "create a new one"}},
		{"expired API token", map[string]any{"authType": "apiToken"}, map[string]string{"apiToken": "SIMULATORAPITOKEN000000000EXPIRED"},
			false, []string{"API token exchange refused (400) at " + host, "has expired", "create a new one"}},
		{"missing client ID", map[string]any{"authType": "oauthApp"}, map[string]string{"clientSecret": simAppSecret},
			false, []string{"client ID is missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := checkHealth(t, f.signIn(t, c.json, c.secure))
			if (res.Status == backend.HealthStatusOk) != c.ok {
				t.Fatalf("%v: %s", res.Status, res.Message)
			}
			for _, want := range c.want {
				if !strings.Contains(res.Message, want) {
					t.Errorf("%q does not say %q", res.Message, want)
				}
			}
			for _, secret := range c.secure {
				if strings.Contains(res.Message+string(res.JSONDetails), secret) {
					t.Error("the health result shows the secret")
				}
			}
		})
	}
}

// Nothing public says whether Cloud Services decodes an OAuth app's credentials in HTTP Basic. Whichever way it
// reads them, sign-in works with a secret of reserved characters, the way that worked is kept and said in the
// health check, and a later sign-in goes that way at once.
func TestOAuthSignInUnderEveryWayOfSendingCredentials(t *testing.T) {
	const id, secret = "grafana+app/1", "s3cr+t/with=pad!%"
	for _, c := range []struct {
		mode      string
		exchanges int
		says      string
	}{{"raw", 1, "HTTP Basic, sent as is"}, {"urlencoded", 2, "HTTP Basic, form-urlencoded"}, {"body", 3, "the form body"}} {
		t.Run(c.mode, func(t *testing.T) {
			var offset atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			f := newFixture(t, cbcsim.Config{EventsPerDay: 50, CSPBasic: c.mode, TokenTTL: time.Minute, Now: clock,
				Apps: []cbcsim.App{{ClientID: id, ClientSecret: secret, Permissions: []string{cbcsim.PermAudits, cbcsim.PermJobs}}}}, nil)
			ds := f.signIn(t, map[string]any{"authType": "oauthApp", "clientId": id}, map[string]string{"clientSecret": secret})
			res := checkHealth(t, ds)
			if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, c.says) {
				t.Fatalf("%v: %s", res.Status, res.Message)
			}
			if got := f.sim.Requests("token"); got != c.exchanges {
				t.Errorf("%d token requests to find the way in, want %d", got, c.exchanges)
			}
			offset.Add(int64(time.Hour)) // CBC refuses the kept token: the next sign-in goes the known way
			if res := checkHealth(t, ds); res.Status != backend.HealthStatusOk {
				t.Fatalf("after the token expired: %s", res.Message)
			}
			if got := f.sim.Requests("token"); got != c.exchanges+1 {
				t.Errorf("%d token requests after the token expired, want %d", got, c.exchanges+1)
			}
		})
	}
}

// An access token that expires mid-search or mid-drain is replaced, and nothing is lost or doubled: short-lived
// tokens and a slow network make tokens run out between and during calls.
func TestTokensExpiringMidSearchAndMidDrain(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	f := newFixture(t, cbcsim.Config{Seed: 44, EventsPerDay: 5000, TokenTTL: 2 * time.Second, Latency: 30 * time.Millisecond, Now: clock},
		map[string]any{"queuePollSeconds": 10, "queueBackfillMinutes": 30})
	ds := f.signIn(t, map[string]any{"authType": "apiToken", "queuePollSeconds": 10, "queueBackfillMinutes": 30}, map[string]string{"apiToken": simAPIToken})
	var searched backend.TimeRange
	search := func(limit int) (int, error) {
		now := time.Now().Truncate(time.Millisecond)
		searched = backend.TimeRange{From: now.Add(-7 * 24 * time.Hour), To: now}
		q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(fmt.Sprintf(`{"format":"table","limit":%d}`, limit)),
			TimeRange: searched}
		resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
		if err != nil {
			return 0, err
		}
		if res := resp.Responses["A"]; res.Error != nil {
			return 0, res.Error
		}
		return resp.Responses["A"].Frames[0].Rows(), nil
	}
	if _, err := search(10); err != nil {
		t.Fatal(err)
	}
	// The simulator's clock jumps past the token's life: CBC refuses the kept token, which is replaced once.
	offset.Add(int64(time.Hour))
	began := time.Now()
	rows, err := search(40000)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if truth := len(recordsBetween(cbctest.Records(f.sim), searched.From, searched.To)); rows != truth {
		t.Errorf("a search after the token expired: %d records, want %d", rows, truth)
	}
	// The first token, one after it expired, and on a busy machine one more for each three quarters of a token's
	// life the search took (a token is renewed a quarter of its life before it ends): never one per request.
	if n, most := f.sim.Requests("token"), 2+int(took/(1500*time.Millisecond)); n < 2 || n > most {
		t.Errorf("%d token exchanges over a search of %s; want from 2 to %d", n, took, most)
	}

	ds.feed.Start()
	waitUntil(t, "the first batch", func() bool { return ds.queueStatus().Drained > 0 })
	offset.Add(int64(time.Hour))
	dequeued := func() int { return len(cbctest.Dequeued(f.sim, "token:00000001")) }
	waitUntil(t, "the drain", func() bool {
		return f.sim.QueueBacklog("token:00000001") == 0 && len(ds.queueStatus().Incomplete) == 0 &&
			ds.queueStatus().Drained >= dequeued()
	})
	if f.sim.Requests("token") < 3 {
		t.Errorf("%d token exchanges; the drain's token expired and was not replaced", f.sim.Requests("token"))
	}
	from := clock().Add(-24 * time.Hour)
	got := sortedIDs(ds.buffer.Records(from, clock().Add(time.Hour)))
	want := sortedIDs(recordsBetween(cbctest.Records(f.sim), from, clock().Add(time.Hour)))
	if len(got) != len(want) {
		t.Errorf("the drain while tokens expire holds %d events of the last day, the simulator %d", len(got), len(want))
	}
}

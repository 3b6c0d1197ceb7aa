package models

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func load(t *testing.T, jsonData, secret string) Settings {
	t.Helper()
	s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(jsonData), DecryptedSecureJSONData: map[string]string{"apiSecret": secret}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegionsResolveToTheirHosts(t *testing.T) {
	if len(Regions()) != 8 {
		t.Fatalf("%d regions, want the 8 hosts of the API contract", len(Regions()))
	}
	s := load(t, `{"region":"prod06","orgKey":"ABCD1234","apiId":"ABCDEFGHIJ"}`, "SECRET")
	if url, err := s.BaseURL(); err != nil || url != "https://defense-eu.conferdeploy.net" {
		t.Errorf("prod06 resolves to %q, %v", url, err)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := map[string]struct{ json, secret, want string }{
		"unknown region":   {`{"region":"mars","orgKey":"A","apiId":"B"}`, "S", `region "mars" is unknown`},
		"no url":           {`{"region":"custom","orgKey":"A","apiId":"B"}`, "S", "URL is missing"},
		"plain http":       {`{"url":"http://cbc.example","orgKey":"A","apiId":"B"}`, "S", "plain HTTP"},
		"url with path":    {`{"url":"https://cbc.example/api","orgKey":"A","apiId":"B"}`, "S", "without a path"},
		"ftp":              {`{"url":"ftp://cbc.example","orgKey":"A","apiId":"B"}`, "S", "must start with https://"},
		"org key missing":  {`{"region":"prod02","apiId":"B"}`, "S", "org key is missing"},
		"org key shape":    {`{"region":"prod02","orgKey":"AB CD","apiId":"B"}`, "S", "org key \"AB CD\" is malformed"},
		"redis address":    {`{"region":"prod02","orgKey":"ABCD","apiId":"B","redisAddress":"redis"}`, "S", "Redis address \"redis\" is malformed: expected host:port"},
		"api id shape":     {`{"region":"prod02","orgKey":"A","apiId":"B/C"}`, "S", "API ID \"B/C\" is malformed"},
		"secret missing":   {`{"region":"prod02","orgKey":"A","apiId":"B"}`, "", "API secret key is missing"},
		"secret spaces":    {`{"region":"prod02","orgKey":"A","apiId":"B"}`, "a b", "white space"},
		"negative timeout": {`{"region":"prod02","orgKey":"A","apiId":"B","timeoutSeconds":-1}`, "S", "timeout must not be negative"},
		"poll too often":   {`{"region":"prod02","orgKey":"A","apiId":"B","queuePollSeconds":2}`, "S", "at least 10 seconds"},
		// Values that once wrapped around into negative durations.
		"huge backfill":    {`{"region":"prod02","orgKey":"A","apiId":"B","queueBackfillMinutes":170000000}`, "S", "queue backfill 170000000 is too large"},
		"huge buffer age":  {`{"region":"prod02","orgKey":"A","apiId":"B","queueBufferHours":2600000}`, "S", "queue buffer hours 2600000 is too large"},
		"huge timeout":     {`{"region":"prod02","orgKey":"A","apiId":"B","timeoutSeconds":9999999999}`, "S", "timeout 9999999999 is too large"},
		"huge concurrency": {`{"region":"prod02","orgKey":"A","apiId":"B","concurrency":100000}`, "S", "concurrency 100000 is too large"},
	}
	for name, c := range cases {
		err := load(t, c.json, c.secret).Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	insecure := load(t, `{"url":"http://127.0.0.1:8080","allowInsecureHttp":true,"orgKey":"A","apiId":"B"}`, "S")
	if err := insecure.Validate(); err != nil {
		t.Errorf("plain HTTP when allowed: %v", err)
	}
	if _, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{`)}); err == nil {
		t.Error("jsonData that is not JSON was accepted")
	}
}

// Unset settings take the defaults the README documents.
func TestDefaults(t *testing.T) {
	s := load(t, `{}`, "")
	got := []any{s.Timeout(), s.EffectiveConcurrency(), s.EffectiveMaxRecords(), s.EffectiveRequestBudget(), s.CacheTTL(),
		s.QueuePoll(), s.QueueBackfill(), s.EffectiveQueueBufferSize(), s.QueueBufferAge(), s.Settle(), s.AlertSettle(),
		s.HistoryMaxAge(), s.HistoryCacheBytes()}
	want := []any{30 * time.Second, 4, 1_000_000, 600, 30 * time.Second, time.Minute, 15 * time.Minute, 100_000,
		24 * time.Hour, 10 * time.Minute, 30 * time.Minute, time.Hour, int64(96 << 20)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("defaults %v, want %v", got, want)
	}
}

// The config editor reads src/regions.json; the backend embeds its own copy. They must not drift apart.
func TestRegionsMatchTheFrontend(t *testing.T) {
	frontend, err := os.ReadFile("../../src/regions.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(frontend) != string(regionsJSON) {
		t.Error("src/regions.json and pkg/models/regions.json differ: copy one over the other")
	}
}

// The config editor and the query editor read src/limits.json; the backend embeds its own copy. They must not
// drift apart, and every numeric setting has exactly one limit, with a default within it.
func TestSettingLimitsAreOneFile(t *testing.T) {
	frontend, err := os.ReadFile("../../src/limits.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frontend, limitsJSON) {
		t.Error("src/limits.json and pkg/models/limits.json differ: copy one over the other")
	}
	var intKeys []string
	st := reflect.TypeOf(Settings{})
	for i := range st.NumField() {
		if f := st.Field(i); f.Type.Kind() == reflect.Int {
			intKeys = append(intKeys, f.Tag.Get("json"))
		}
	}
	slices.Sort(intKeys)
	if got := slices.Sorted(maps.Keys(Settings{}.numbers())); !slices.Equal(got, intKeys) {
		t.Errorf("Validate checks %v, the numeric settings are %v", got, intKeys)
	}
	if got := slices.Sorted(maps.Keys(limits.Settings)); !slices.Equal(got, intKeys) {
		t.Errorf("limits.json bounds %v, the numeric settings are %v", got, intKeys)
	}
	for key, bound := range limits.Settings {
		if bound.Default < max(1, bound.Min) || bound.Default > bound.Max {
			t.Errorf("%s: default %d outside its bounds %d to %d", key, bound.Default, bound.Min, bound.Max)
		}
	}
}

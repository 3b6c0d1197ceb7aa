package models

import (
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// No query a panel can send crashes the parser or passes with an unusable value.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		`{"queryType":"count","interval":"213504d","groupBy":"actor","topN":3}`,
		`{"query":"a","criteria":{"actor":["x"],"flagged":true},"sort":{"field":"actor","order":"asc"},"limit":5}`,
		`{"queryType":"queue","format":"table"}`, `{"interval":"9223372036854775807s"}`, `{`,
	} {
		f.Add([]byte(seed), int64(time.Minute))
	}
	f.Fuzz(func(t *testing.T, raw []byte, interval int64) {
		now := time.Date(2024, 4, 17, 0, 0, 0, 0, time.UTC)
		q, err := ParseQuery(backend.DataQuery{RefID: "A", JSON: raw, Interval: time.Duration(interval),
			TimeRange: backend.TimeRange{From: now.Add(-time.Hour), To: now}})
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit || q.Step > MaxInterval || q.TopN < 0 || q.TopN > MaxTopN {
			t.Fatalf("%s passed with limit %d, step %s, top %d", raw, q.Limit, q.Step, q.TopN)
		}
		if q.Interval != "" && q.Step <= 0 {
			t.Fatalf("%s passed with step %s", raw, q.Step)
		}
	})
}

// No settings crash the loader, and settings that validate give positive durations and counts.
func FuzzSettings(f *testing.F) {
	for _, seed := range []string{
		`{"region":"prod02","orgKey":"ABCD1234","apiId":"ABCDEFGHIJ","queueBackfillMinutes":170000000}`,
		`{"url":"http://127.0.0.1:1","allowInsecureHttp":true,"orgKey":"A","apiId":"B","timeoutSeconds":5}`,
		`{"region":"custom","url":"https://x.example"}`, `[]`,
	} {
		f.Add([]byte(seed), "SECRET")
	}
	f.Fuzz(func(t *testing.T, raw []byte, secret string) {
		s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: raw, DecryptedSecureJSONData: map[string]string{"apiSecret": secret}})
		if err != nil || s.Validate() != nil {
			return
		}
		if s.Timeout() <= 0 || s.QueuePoll() <= 0 || s.QueueBackfill() <= 0 || s.QueueBufferAge() <= 0 || s.CacheTTL() < 0 ||
			s.EffectiveConcurrency() <= 0 || s.EffectiveQueueBufferSize() <= 0 {
			t.Fatalf("%s validated with a non-positive value: %+v", raw, s)
		}
	})
}

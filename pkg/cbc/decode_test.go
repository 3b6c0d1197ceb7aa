package cbc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The hand-written decoder reads what encoding/json would: escapes, non-ASCII text, nulls, unknown fields of
// any shape, and timestamps in CBC's layout or any other ISO-8601 form.
func TestDecodeReadsEveryFormOfValue(t *testing.T) {
	body := `{"num_found": 3, "extra": {"nested": [1, 2.5e3, -4, "x", null, true, {"a": []}]},
	 "results": [
	  {"actor": "eve \"the\" <admin> \u00e9\\t", "actor_ip": null, "create_time": "2024-01-02T03:04:05.678Z",
	   "description": "Caf\u00e9 — naïve", "flagged": true, "verbose": null, "org_key": "ABCD1234",
	   "request_url": "https://x/?a=1&b=2", "unknown": [{"deep": {"er": "}"}}], "act\u006fr_ip": "10.0.0.1"},
	  {"create_time": "2024-01-02T03:04:05.123456+01:00", "flagged": false},
	  null
	 ], "num_available": 3}`
	page, err := decodeEnvelope(strings.NewReader(body), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{
			Actor: "eve \"the\" <admin> é\\t", ActorIP: "10.0.0.1", CreateTime: time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC),
			Description: "Café — naïve", Flagged: true, OrgKey: "ABCD1234", RequestURL: "https://x/?a=1&b=2",
		},
		{CreateTime: time.Date(2024, 1, 2, 2, 4, 5, 123456000, time.UTC)},
		{},
	}
	if page.NumFound != 3 || page.NumAvailable != 3 || len(page.Results) != len(want) {
		t.Fatalf("page %+v", page)
	}
	for i := range want {
		if page.Results[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, page.Results[i], want[i])
		}
	}
	var viaStdlib Record
	if err := json.Unmarshal([]byte(`{"actor":"a\u0041","create_time":"2024-01-02T03:04:05Z"}`), &viaStdlib); err != nil ||
		viaStdlib.Actor != "aA" || !viaStdlib.CreateTime.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("json.Unmarshal into a Record: %+v, %v", viaStdlib, err)
	}
}

// A body cut anywhere is reported as cut short (io.ErrUnexpectedEOF), which the client retries.
func TestDecodeReportsEveryCutAsTruncated(t *testing.T) {
	full, _ := json.Marshal(SearchResponse{NumFound: 2, NumAvailable: 2, Results: []Record{
		{Actor: "alice", CreateTime: time.Unix(1700000000, 0), Description: "Logged in \"ok\" é", Flagged: true},
		{Actor: "bob", RequestURL: "https://x/y"},
	}})
	for cut := 0; cut < len(full); cut++ {
		if _, err := decodeEnvelope(bytes.NewReader(full[:cut]), 0); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at byte %d (%q): %v, want io.ErrUnexpectedEOF", cut, full[:cut], err)
		}
	}
	if page, err := decodeEnvelope(bytes.NewReader(full), 2); err != nil || len(page.Results) != 2 {
		t.Fatalf("the whole body: %+v, %v", page, err)
	}
}

// Values of the wrong kind are errors that name the field, not silently empty fields.
func TestDecodeRefusesWrongTypes(t *testing.T) {
	for body, field := range map[string]string{
		`{"results":[{"flagged":"yes"}]}`:                          "flagged",
		`{"results":[{"actor":5}]}`:                                "actor",
		`{"results":[{"create_time":"yesterday"}]}`:                "create_time",
		`{"results":[{"create_time":"2024-02-30T00:00:00.000Z"}]}`: "create_time",
		`{"num_found":"many","results":[]}`:                        "whole number",
		`{"results":{}}`:                                           "[",
	} {
		_, err := decodeEnvelope(strings.NewReader(body), 0)
		if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming %s", body, err, field)
		}
	}
}

// BenchmarkDecodePage decodes a full page of 10000 records, the unit of every large search.
func BenchmarkDecodePage(b *testing.B) {
	records := make([]Record, MaxRows)
	for i := range records {
		records[i] = Record{
			Actor: "alice.admin@acme.example", ActorIP: "203.0.113.10", CreateTime: time.Unix(1700000000+int64(i), 123e6),
			Description: "Updated connector Splunk forwarder with api key KX7Q2M9RTA", OrgKey: "ABCD1234",
			RequestURL: "https://defense.conferdeploy.net/settings/users",
		}
	}
	raw, err := json.Marshal(SearchResponse{NumFound: MaxRows, NumAvailable: MaxRows, Results: records})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if page, err := decodeEnvelope(bytes.NewReader(raw), MaxRows); err != nil || len(page.Results) != MaxRows {
			b.Fatal(len(page.Results), err)
		}
	}
}

// IDs hash create_time as FormatTime writes it, whatever the time.
func TestAppendTimeWritesTheLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 5*3600)),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := string(appendTime(nil, tm)), FormatTime(tm); got != want {
			t.Errorf("appendTime %s, FormatTime %s", got, want)
		}
	}
}

// The hand-written decoder never panics, accepts only valid JSON, and agrees with encoding/json on the envelope.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, seed := range []string{
		`{"num_found": 2, "num_available": 2, "results": [{"actor": "a", "create_time": "2024-01-02T03:04:05.678Z"}, null]}`,
		`{"results": [{"description": "caf\u00e9 \"x\"", "flagged": true, "request_url": null}], "num_found": 1}`,
		`{"num_found": 1e2, "results": []}`, `[]`, `{"results": [{"x": {"y": [1, {"z": null}]}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodeEnvelope(bytes.NewReader(body), 0)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var ref map[string]any
		if json.Unmarshal(body, &ref) != nil {
			t.Fatalf("accepted %q, which encoding/json does not read as an object", body)
		}
		if results, ok := ref["results"].([]any); ok && len(results) != len(page.Results) {
			t.Fatalf("%q: %d results, encoding/json reads %d", body, len(page.Results), len(results))
		}
		if n, ok := ref["num_found"].(float64); ok && float64(page.NumFound) != n {
			t.Fatalf("%q: num_found %d, encoding/json reads %v", body, page.NumFound, n)
		}
	})
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The simulator's organisation and its key with every permission.
const (
	orgKey    = "ABCD1234"
	apiID     = "GRAFANA001"
	apiSecret = "SIMULATORSECRET0GRAFANA01"
)

// CBC's paging limits: at most pageRows rows a request, and only the first pageRows matches of a search.
const pageRows = 10000

// barePager is the sequential lower bound: the fewest, largest requests one after another, reading each body
// as bytes without decoding a record. Its only parsing is num_found, to know whether a slice fit the window.
type barePager struct {
	url    string
	client http.Client
	body   bytes.Buffer
}

// fetchAll reads every record of span and returns how many it read. When more match than one window holds,
// it pages through time slices that aim at 8000 records each (the plugin's target too), oldest first,
// halving a slice that still holds more than a window.
func (p *barePager) fetchAll(span timeSpan) (int, error) {
	found, err := p.page(span)
	if err != nil || found <= pageRows {
		return found, err
	}
	pending := span.split((found + 7999) / 8000)
	read := 0
	for len(pending) > 0 {
		slice := pending[0]
		pending = pending[1:]
		n, err := p.page(slice)
		if err != nil {
			return read, err
		}
		if n > pageRows {
			if !slice.from.Before(slice.to) {
				return read, fmt.Errorf("%d records share the millisecond %s: more than one window", n, slice.startISO())
			}
			pending = append(slice.split(2), pending...)
			continue
		}
		read += n
	}
	return read, nil
}

// page requests the first pageRows records of span and returns how many match it.
func (p *barePager) page(span timeSpan) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"criteria": map[string]any{"create_time": map[string]string{"start": span.startISO(), "end": span.endISO()}},
		"rows":     pageRows,
	})
	req, err := http.NewRequest(http.MethodPost, p.url+"/audit_log/v1/orgs/"+orgKey+"/logs/_search", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", apiSecret+"/"+apiID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	p.body.Reset()
	if _, err := p.body.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("search answered %d: %.200s", resp.StatusCode, p.body.Bytes())
	}
	return numFound(p.body.Bytes())
}

// numFound reads the num_found number out of a search body without decoding the rest.
func numFound(body []byte) (int, error) {
	key := []byte(`"num_found":`)
	at := bytes.Index(body, key)
	if at < 0 {
		return 0, fmt.Errorf("no num_found in the search body: %.200s", body)
	}
	rest := bytes.TrimLeft(body[at+len(key):], " ")
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, fmt.Errorf("num_found is cut short")
	}
	return strconv.Atoi(string(bytes.TrimSpace(rest[:end])))
}

// timeSpan is a closed range of milliseconds.
type timeSpan struct{ from, to time.Time }

// shifted moves the end by i milliseconds, so that repeated runs are distinct queries (no cache answers them),
// as Grafana's moving "now" makes them.
func (s timeSpan) shifted(i int) timeSpan {
	return timeSpan{s.from, s.to.Add(time.Duration(i) * time.Millisecond)}
}

// split cuts the span into n equal, adjacent, non-overlapping spans, oldest first.
func (s timeSpan) split(n int) []timeSpan {
	from, to := s.from.Truncate(time.Millisecond), s.to.Truncate(time.Millisecond)
	ms := int64(to.Sub(from)/time.Millisecond) + 1
	n = int(min(int64(n), ms))
	out := make([]timeSpan, 0, n)
	for i := range int64(n) {
		out = append(out, timeSpan{
			from: from.Add(time.Duration(ms*i/int64(n)) * time.Millisecond),
			to:   from.Add(time.Duration(ms*(i+1)/int64(n)-1) * time.Millisecond),
		})
	}
	return out
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func (s timeSpan) startISO() string { return s.from.UTC().Format(isoMillis) }
func (s timeSpan) endISO() string   { return s.to.UTC().Format(isoMillis) }

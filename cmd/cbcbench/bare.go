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
	if err := p.call(http.MethodPost, "/audit_log/v1/orgs/"+orgKey+"/logs/_search", body); err != nil {
		return 0, err
	}
	return numFound(p.body.Bytes())
}

// export is the direct download the plugin's export is held to: it starts a CSV export of span, polls the job
// every 100 ms (as the query editor follows the plugin's), downloads the file and returns how many records it
// holds.
func (p *barePager) export(span timeSpan) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"criteria": map[string]any{"create_time": map[string]string{"start": span.startISO(), "end": span.endISO()}},
		"format":   "csv",
	})
	var started struct {
		JobID int64 `json:"job_id"`
	}
	if err := p.call(http.MethodPost, "/audit_log/v1/orgs/"+orgKey+"/logs/_export", body); err != nil {
		return 0, err
	}
	if err := json.Unmarshal(p.body.Bytes(), &started); err != nil {
		return 0, err
	}
	job := fmt.Sprintf("/jobs/v1/orgs/%s/jobs/%d", orgKey, started.JobID)
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var st struct{ Status string }
		if err := p.call(http.MethodGet, job, nil); err != nil {
			return 0, err
		}
		if err := json.Unmarshal(p.body.Bytes(), &st); err != nil {
			return 0, err
		}
		if st.Status == "COMPLETED" {
			break
		}
		if st.Status == "FAILED" || time.Now().After(deadline) {
			return 0, fmt.Errorf("export job %s", st.Status)
		}
	}
	if err := p.call(http.MethodGet, job+"/download", nil); err != nil {
		return 0, err
	}
	return bytes.Count(p.body.Bytes(), []byte("\n")) - 1, nil // minus the header
}

// call sends one request with the API key and reads the answer's body into p.body.
func (p *barePager) call(method, path string, body []byte) error {
	req, err := http.NewRequest(method, p.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", apiSecret+"/"+apiID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	p.body.Reset()
	if _, err := p.body.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s answered %d: %.200s", method, path, resp.StatusCode, p.body.Bytes())
	}
	return nil
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

// shifted moves the end by i minutes, so that repeated runs are distinct queries, as Grafana's moving "now"
// makes them: the cache of recent searches shares one answer among ranges that moved less than its cache time.
// The benchmark's simulator adds no events, so a later end changes no answer.
func (s timeSpan) shifted(i int) timeSpan {
	return timeSpan{s.from, s.to.Add(time.Duration(i) * time.Minute)}
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

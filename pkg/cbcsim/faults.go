package cbcsim

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault changes how the simulator answers requests to one endpoint ("search", "queue", "export", "legacy",
// "jobs", "job", "progress", "download", or "*" for all), for the next Times requests (0: until cleared).
type Fault struct {
	Endpoint   string `json:"endpoint"`
	Status     int    `json:"status,omitempty"`       // answer with this status instead, e.g. 429 or 503
	RetryAfter int    `json:"retry_after,omitempty"`  // seconds, sent with a 429
	LatencyMS  int    `json:"latency_ms,omitempty"`   // wait before answering
	Malformed  bool   `json:"malformed,omitempty"`    // answer 200 with a body that is not JSON
	Truncate   bool   `json:"truncate,omitempty"`     // send only the first half of the body
	SlowBodyMS int    `json:"slow_body_ms,omitempty"` // wait this long between 4 KiB chunks of the body
	FailJob    bool   `json:"fail_job,omitempty"`     // with "export": the job ends FAILED
	Reset      bool   `json:"reset,omitempty"`        // close the connection without an answer
	After      bool   `json:"after,omitempty"`        // Status or Reset strike after the request was handled, as a gateway's would
	Skip       int    `json:"skip,omitempty"`         // let this many requests through untouched first
	Times      int    `json:"times,omitempty"`        // then strike this many (0: until cleared)
}

// AddFault installs a fault.
func (s *Simulator) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the combined faults for one request to endpoint, using up one of each fault's Times.
// The caller holds s.mu.
func (s *Simulator) takeFault(endpoint string) Fault {
	var combined Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		if f.Endpoint != endpoint && f.Endpoint != "*" {
			kept = append(kept, f)
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			kept = append(kept, f)
			continue
		}
		if f.Status != 0 {
			combined.Status, combined.RetryAfter = f.Status, f.RetryAfter
		}
		combined.LatencyMS += f.LatencyMS
		combined.Malformed = combined.Malformed || f.Malformed
		combined.Truncate = combined.Truncate || f.Truncate
		combined.FailJob = combined.FailJob || f.FailJob
		combined.Reset = combined.Reset || f.Reset
		combined.After = combined.After || f.After
		combined.SlowBodyMS = max(combined.SlowBodyMS, f.SlowBodyMS)
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				continue
			}
		}
		kept = append(kept, f)
	}
	s.faults = kept
	return combined
}

// writeBody writes a response body as the fault says: whole, cut in half, replaced by garbage, or slowly.
func writeBody(w http.ResponseWriter, f Fault, status int, contentType string, body []byte) {
	if f.Malformed {
		body = []byte(`{"num_found": 1, "results": [<html>Bad Gateway</html>`)
	}
	if f.Truncate {
		body = body[:len(body)/2]
	} else if f.SlowBodyMS == 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	if f.SlowBodyMS == 0 {
		_, _ = w.Write(body)
		return
	}
	flusher, _ := w.(http.Flusher)
	for len(body) > 0 {
		n := min(4096, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		body = body[n:]
		time.Sleep(time.Duration(f.SlowBodyMS) * time.Millisecond)
	}
}

// reset drops the connection without an answer, with a TCP reset where it can.
func reset(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

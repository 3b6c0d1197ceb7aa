package cbcsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// adminRoutes are the test-only routes, kept under /_sim/ apart from the CBC API and needing no key:
//
//	POST   /_sim/events             inject records (a JSON list); they appear in search and in every queue
//	POST   /_sim/faults             install a Fault
//	DELETE /_sim/faults             remove all faults
//	POST   /_sim/truth              every match of a search body, without the window: the ground truth
//	POST   /_sim/keys/{id}/revoke   make a key invalid
//	GET    /_sim/stats              requests per endpoint and queue backlog per key
//	GET    /_sim/scenarios          the attack scenarios
//	POST   /_sim/scenarios/{name}   add an attack, from {"at": "<RFC 3339>"} or now; answers its Truth
func (s *Simulator) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/scenarios", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, Fault{}, ok(Scenarios()))
	})
	mux.HandleFunc("POST /_sim/scenarios/{name}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			At time.Time `json:"at"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			http.Error(w, `expected {"at": "2026-01-02T15:04:05Z"}, or no body for now: `+err.Error(), http.StatusBadRequest)
			return
		}
		if body.At.IsZero() {
			body.At = s.cfg.Now()
		}
		truth, err := s.Attack(r.PathValue("name"), body.At)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, Fault{}, ok(truth))
	})
	mux.HandleFunc("POST /_sim/events", func(w http.ResponseWriter, r *http.Request) {
		var records []Event
		if err := json.NewDecoder(r.Body).Decode(&records); err != nil {
			http.Error(w, "expected a JSON list of records: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.Inject(records...)
		writeJSON(w, Fault{}, ok(map[string]int{"added": len(records)}))
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil || f.Endpoint == "" {
			http.Error(w, "expected a fault such as {\"endpoint\": \"search\", \"status\": 503, \"times\": 1}", http.StatusBadRequest)
			return
		}
		s.AddFault(f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/truth", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		records, err := s.Match(body)
		if err != nil {
			writeJSON(w, Fault{}, failure(err))
			return
		}
		writeJSON(w, Fault{}, ok(envelope{NumFound: len(records), NumAvailable: len(records), Results: records}))
	})
	mux.HandleFunc("POST /_sim/keys/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.Revoke(r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		requests := map[string]int{}
		for k, v := range s.stats {
			requests[k] = v
		}
		backlog := map[string]int{}
		for id, k := range s.keys {
			backlog[id] = len(k.queue)
		}
		records := len(s.records)
		s.mu.Unlock()
		writeJSON(w, Fault{}, ok(map[string]any{"requests": requests, "queue_backlog": backlog, "records": records}))
	})
}

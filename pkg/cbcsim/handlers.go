package cbcsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Handler serves the CBC API and, under /_sim/, the admin API.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	audits := "/audit_log/v1/orgs/{org}/logs/"
	jobs := "/jobs/v1/orgs/{org}/jobs"
	mux.Handle("POST "+audits+"_search", s.endpoint("search", PermAudits, true, s.handleSearch))
	mux.Handle("GET "+audits+"_queue", s.endpoint("queue", PermAudits, true, s.handleQueue))
	mux.Handle("POST "+audits+"_export", s.endpoint("export", PermAudits, true, s.handleExport))
	mux.Handle("GET /integrationServices/v3/auditlogs", s.endpoint("legacy", PermAudits, false, s.handleLegacy))
	mux.Handle("GET "+jobs, s.endpoint("jobs", PermJobs, true, s.handleJobs))
	mux.Handle("GET "+jobs+"/{id}", s.endpoint("job", PermJobs, true, s.handleJob))
	mux.Handle("GET "+jobs+"/{id}/progress", s.endpoint("progress", PermJobs, true, s.handleProgress))
	mux.Handle("GET "+jobs+"/{id}/download", s.endpoint("download", PermJobs, true, s.handleDownload))
	s.adminRoutes(mux)
	return mux
}

// call is one authenticated CBC request, with the simulator locked.
type call struct {
	r     *http.Request
	key   *keyState
	fault Fault
}

// reply is what a CBC handler answers; stream, when set, writes the body itself (downloads).
type reply struct {
	status int
	body   any
	stream func(http.ResponseWriter)
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func errorReply(status int, code, message string) reply {
	return reply{status: status, body: map[string]string{"error_code": code, "message": message}}
}

// endpoint wraps a CBC handler with what every CBC route does: count, rate-limit, inject faults,
// authenticate, check the org and the permission.
func (s *Simulator) endpoint(name, perm string, orgScoped bool, handle func(call) reply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats[name]++
		retry, limited := s.rateLimited(r)
		fault := s.takeFault(name)
		s.mu.Unlock()

		if wait := s.cfg.Latency + time.Duration(fault.LatencyMS)*time.Millisecond; wait > 0 {
			time.Sleep(wait)
		}
		if limited {
			fault = Fault{Status: http.StatusTooManyRequests, RetryAfter: retry}
		}
		if fault.Status != 0 {
			if fault.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", itoa(max(fault.RetryAfter, 1)))
			}
			writeJSON(w, Fault{}, errorReply(fault.Status, http.StatusText(fault.Status), "injected fault"))
			return
		}

		s.mu.Lock()
		rep := s.authorize(r, name, perm, orgScoped, func(key *keyState) reply {
			return handle(call{r: r, key: key, fault: fault})
		})
		s.mu.Unlock()
		if rep.stream != nil {
			rep.stream(w)
			return
		}
		writeJSON(w, fault, rep)
	})
}

// authorize checks the X-Auth-Token, the org key and the permission. The caller holds s.mu.
func (s *Simulator) authorize(r *http.Request, name, perm string, orgScoped bool, next func(*keyState) reply) reply {
	token := r.Header.Get("X-Auth-Token")
	slash := strings.LastIndex(token, "/")
	if slash < 0 {
		return errorReply(http.StatusUnauthorized, "UNAUTHORIZED", "X-Auth-Token must be <API secret key>/<API ID>")
	}
	key, found := s.keys[token[slash+1:]]
	if !found || key.Secret != token[:slash] || key.revoked {
		return errorReply(http.StatusUnauthorized, "UNAUTHORIZED", "the API key is invalid or was revoked")
	}
	if orgScoped && r.PathValue("org") != s.cfg.OrgKey {
		return errorReply(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("org %q not found", r.PathValue("org")))
	}
	if !key.can(perm) {
		return errorReply(http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("the API key lacks READ on %s for %s", perm, name))
	}
	return next(key)
}

// rateLimited applies the per-IP sliding window. Refused requests count too, so hammering extends the wait.
// The caller holds s.mu.
func (s *Simulator) rateLimited(r *http.Request) (retryAfter int, limited bool) {
	if s.cfg.RateLimit <= 0 {
		return 0, false
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := s.cfg.Now()
	cutoff := now.Add(-s.cfg.RateWindow)
	sent := s.sent[ip]
	for len(sent) > 0 && !sent[0].After(cutoff) {
		sent = sent[1:]
	}
	limited = len(sent) >= s.cfg.RateLimit
	if len(sent) < 2*s.cfg.RateLimit {
		sent = append(sent, now)
	}
	s.sent[ip] = sent
	if !limited {
		return 0, false
	}
	wait := sent[len(sent)-s.cfg.RateLimit].Add(s.cfg.RateWindow).Sub(now)
	return int(wait/time.Second) + 1, true
}

func writeJSON(w http.ResponseWriter, f Fault, rep reply) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rep.body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, f, rep.status, "application/json", buf.Bytes())
}

// decodeStrict reads a JSON body, refusing unknown keys so that a client sending what CBC does not take fails.
func decodeStrict(r *http.Request, into any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return badRequestf("the request body is not a valid request: %v", err)
	}
	return nil
}

// failure turns a search error into CBC's 400 bodies.
func failure(err error) reply {
	var syntax *syntaxError
	if errors.As(err, &syntax) {
		return reply{status: http.StatusBadRequest, body: map[string]string{"reason": "query_malformed_syntax", "message": syntax.msg}}
	}
	return errorReply(http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
}

func (s *Simulator) handleSearch(c call) reply {
	var req cbc.SearchRequest
	if err := decodeStrict(c.r, &req); err != nil {
		return failure(err)
	}
	rows := req.Rows
	if rows == 0 {
		rows = s.cfg.DefaultRows
	}
	switch {
	case rows < 0 || req.Start < 0:
		return failure(badRequestf("rows and start must not be negative"))
	case rows > cbc.MaxRows:
		return failure(badRequestf("rows must be at most %d, got %d", cbc.MaxRows, rows))
	case req.Start+rows > cbc.Window:
		return failure(badRequestf("start + rows must be at most %d (the result window), got %d", cbc.Window, req.Start+rows))
	}
	compiled, err := s.compile(req.Query, req.Criteria, req.Exclusions, req.Sort)
	if err != nil {
		return failure(err)
	}
	h := s.run(compiled)
	page := cbc.SearchResponse{NumFound: h.len(), NumAvailable: min(h.len(), cbc.Window), Results: []cbc.Record{}}
	for i := req.Start; i < min(req.Start+rows, h.len()); i++ {
		page.Results = append(page.Results, h.at(i))
	}
	return ok(page)
}

// dequeue takes up to one batch from the front of a key's queue. The caller holds s.mu.
func (s *Simulator) dequeue(key *keyState) (batch []cbc.Record, backlog int) {
	backlog = len(key.queue)
	n := min(backlog, s.cfg.QueueBatch)
	batch = append([]cbc.Record{}, key.queue[:n]...)
	key.queue = append([]cbc.Record(nil), key.queue[n:]...)
	return batch, backlog
}

func (s *Simulator) handleQueue(c call) reply {
	batch, backlog := s.dequeue(c.key)
	return ok(cbc.SearchResponse{NumFound: len(batch), NumAvailable: backlog, Results: batch})
}

func (s *Simulator) handleLegacy(c call) reply {
	batch, _ := s.dequeue(c.key)
	notifications := make([]map[string]any, 0, len(batch))
	for _, rec := range batch {
		var url any
		if rec.RequestURL != "" {
			url = rec.RequestURL
		}
		notifications = append(notifications, map[string]any{
			"eventId":     rec.ID(),
			"eventTime":   rec.CreateTime.UnixMilli(),
			"loginName":   rec.Actor,
			"clientIp":    rec.ActorIP,
			"orgName":     strings.ToLower(s.cfg.OrgKey) + ".example.org",
			"requestUrl":  url,
			"description": rec.Description,
			"flagged":     rec.Flagged,
			"verbose":     rec.Verbose,
		})
	}
	return ok(map[string]any{"success": true, "message": "Success", "notifications": notifications})
}

package cbcsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a request body, as a server would.
const maxBody = 8 << 20

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
	s.signInRoutes(mux)
	s.adminRoutes(mux)
	return mux
}

// call is one authenticated CBC request, with the simulator locked.
type call struct {
	r     *http.Request
	body  []byte
	key   *keyState
	fault Fault
}

// reply is what a CBC handler answers; stream, when set, writes the body itself (downloads).
type reply struct {
	status int
	body   any
	header http.Header
	stream func(http.ResponseWriter)
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func errorReply(status int, code, message string) reply {
	return reply{status: status, body: map[string]string{"error_code": code, "message": message}}
}

// envelope is the body of a search page and of a queue read.
type envelope struct {
	NumFound     int     `json:"num_found"`
	NumAvailable int     `json:"num_available"`
	Results      []Event `json:"results"`
}

// endpoint wraps a CBC handler with what every CBC route does: count, rate-limit, inject faults,
// authenticate, check the org and the permission.
func (s *Simulator) endpoint(name, perm string, orgScoped bool, handle func(call) reply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeJSON(w, Fault{}, errorReply(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body is larger than 8 MiB"))
			return
		}
		s.mu.Lock()
		s.stats[name]++
		retry, limited := s.rateLimited(r)
		fault := s.takeFault(name)
		s.mu.Unlock()

		if wait := s.cfg.Latency + time.Duration(fault.LatencyMS)*time.Millisecond; wait > 0 {
			time.Sleep(wait)
		}
		if limited {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			writeJSON(w, Fault{}, errorReply(http.StatusTooManyRequests, "TOO_MANY_REQUESTS",
				fmt.Sprintf("Rate limit exceeded: retry after %d seconds", retry)))
			return
		}
		if !fault.After && injectFailure(w, fault) {
			return
		}

		s.mu.Lock()
		rep := s.authorize(r, name, perm, orgScoped, func(key *keyState) reply {
			return handle(call{r: r, body: body, key: key, fault: fault})
		})
		s.mu.Unlock()
		if fault.After && injectFailure(w, fault) {
			return
		}
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		if rep.stream != nil {
			rep.stream(w)
			return
		}
		writeJSON(w, fault, rep)
	})
}

// injectFailure answers with the fault's status, or drops the connection, and reports whether it did.
func injectFailure(w http.ResponseWriter, fault Fault) bool {
	switch {
	case fault.Reset:
		reset(w)
	case fault.Status != 0:
		if fault.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(max(fault.RetryAfter, 1)))
		}
		writeJSON(w, Fault{}, statusReply(fault.Status))
	default:
		return false
	}
	return true
}

// statusReply is what an injected status answers with: CBC's own body for 429, a gateway's or server's for
// the others.
func statusReply(status int) reply {
	switch {
	case status == http.StatusTooManyRequests:
		return errorReply(status, "TOO_MANY_REQUESTS", "Rate limit exceeded: retry after the time in Retry-After")
	case status >= 500:
		return errorReply(status, strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")), "The service is temporarily unable to handle the request")
	}
	return errorReply(status, strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")), http.StatusText(status))
}

// authorize checks the credentials (X-Auth-Token, or a Bearer access token), the org key and the permission.
// The caller holds s.mu.
func (s *Simulator) authorize(r *http.Request, name, perm string, orgScoped bool, next func(*keyState) reply) reply {
	var key *keyState
	if header := r.Header.Get("Authorization"); header != "" {
		var problem string
		if key, problem = s.bearer(header); key == nil {
			return errorReply(http.StatusUnauthorized, "UNAUTHORIZED", problem)
		}
	} else {
		token := r.Header.Get("X-Auth-Token")
		slash := strings.LastIndex(token, "/")
		if slash < 0 {
			return errorReply(http.StatusUnauthorized, "UNAUTHORIZED", "X-Auth-Token must be <API secret key>/<API ID>")
		}
		found := false
		key, found = s.keys[token[slash+1:]]
		if !found || key.Secret == "" || key.Secret != token[:slash] || key.revoked {
			return errorReply(http.StatusUnauthorized, "UNAUTHORIZED", "the API key is invalid or was revoked")
		}
	}
	if orgScoped && r.PathValue("org") != s.cfg.OrgKey {
		if s.cfg.WrongOrgStatus == http.StatusForbidden {
			return errorReply(http.StatusForbidden, "FORBIDDEN", "access to this org is denied")
		}
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

// failure turns a search error into CBC's 400 bodies.
func failure(err error) reply {
	var query *queryError
	if errors.As(err, &query) {
		return reply{status: http.StatusBadRequest, body: map[string]string{"reason": "query_malformed_syntax", "message": query.msg}}
	}
	return errorReply(http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
}

func (s *Simulator) handleSearch(c call) reply {
	body, err := readBody(c.body)
	if err != nil {
		return failure(err)
	}
	rows := body.Rows
	if rows == 0 {
		rows = s.cfg.DefaultRows
	}
	switch {
	case rows < 0 || body.Start < 0:
		return failure(badRequestf("rows and start must not be negative"))
	case rows > s.maxRows():
		return failure(badRequestf("rows must be at most %d, got %d", s.maxRows(), rows))
	case body.Start+rows > window:
		return failure(badRequestf("start + rows must be at most %d (the result window), got %d", window, body.Start+rows))
	}
	compiled, err := s.compile(body)
	if err != nil {
		return failure(err)
	}
	matched := s.run(compiled)
	page := envelope{NumFound: len(matched), NumAvailable: min(len(matched), window)}
	if s.cfg.CapNumFound {
		page.NumFound = page.NumAvailable
	}
	page.Results = events(matched[min(body.Start, len(matched)):min(body.Start+rows, len(matched))])
	return ok(page)
}

// dequeue takes up to one batch from a key's queue, which holds its events oldest first: from the front, or
// with Config.QueueOrder "newest" from the back, listed newest first. The caller holds s.mu.
func (s *Simulator) dequeue(key *keyState) (batch []Event, backlog int) {
	backlog = len(key.queue)
	n := min(backlog, s.cfg.QueueBatch)
	if s.cfg.QueueOrder == "newest" {
		batch = append([]Event{}, key.queue[backlog-n:]...)
		slices.Reverse(batch)
		key.queue = append([]Event(nil), key.queue[:backlog-n]...)
	} else {
		batch = append([]Event{}, key.queue[:n]...)
		key.queue = append([]Event(nil), key.queue[n:]...)
	}
	key.dequeued = append(key.dequeued, batch...)
	return batch, backlog
}

// handleQueue answers a queue read. num_available is the backlog before the read, or with Config.NumAvailable
// "after", what the read left.
func (s *Simulator) handleQueue(c call) reply {
	batch, backlog := s.dequeue(c.key)
	if s.cfg.NumAvailable == "after" {
		backlog -= len(batch)
	}
	return ok(envelope{NumFound: len(batch), NumAvailable: backlog, Results: batch})
}

// maxRows is the largest page a search serves: Config.MaxRows, or the 10000 other CBC searches allow.
func (s *Simulator) maxRows() int {
	if s.cfg.MaxRows > 0 {
		return s.cfg.MaxRows
	}
	return maxRows
}

// handleLegacy answers the v3 queue: camelCase notifications with an event id of 32 hex digits and epoch
// milliseconds, as CBC's own example shows. Its requestUrl values are null; a URL is written as it is.
func (s *Simulator) handleLegacy(c call) reply {
	batch, _ := s.dequeue(c.key)
	notifications := make([]map[string]any, 0, len(batch))
	for _, rec := range batch {
		var requestURL any
		if rec.RequestURL != "" {
			requestURL = rec.RequestURL
		}
		s.legacy++
		id := sha256.Sum256(fmt.Appendf(nil, "%d %d %s", s.cfg.Seed, s.legacy, rec.CreateTime))
		notifications = append(notifications, map[string]any{
			"eventId":     hex.EncodeToString(id[:16]),
			"eventTime":   rec.CreateTime.UnixMilli(),
			"loginName":   rec.Actor,
			"clientIp":    rec.ActorIP,
			"orgName":     strings.ToLower(s.cfg.OrgKey) + ".example.org",
			"requestUrl":  requestURL,
			"description": rec.Description,
			"flagged":     rec.Flagged,
			"verbose":     rec.Verbose,
		})
	}
	return ok(map[string]any{"success": true, "message": "Success", "notifications": notifications})
}

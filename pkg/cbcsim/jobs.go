package cbcsim

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Job statuses (cbc-api.md), and the progress messages of the SDK's job model.
const (
	jobCreated    = "CREATED"
	jobInProgress = "IN_PROGRESS"
	jobCompleted  = "COMPLETED"
	jobFailed     = "FAILED"
)

// job is an export: a snapshot of the matches taken when it was started, served once it completes.
type job struct {
	id       int64
	owner    string // the API ID that started it; no other key sees it
	format   string
	records  []Event
	created  time.Time
	duration time.Duration
	fails    bool
	params   json.RawMessage
}

func (j *job) status(now time.Time) (status, message string, completed int64) {
	total := int64(len(j.records))
	elapsed := now.Sub(j.created)
	switch {
	case elapsed >= j.duration && j.fails:
		return jobFailed, "FINISHED", 0
	case elapsed >= j.duration:
		return jobCompleted, "FINISHED", total
	case elapsed < j.duration/10:
		return jobCreated, "QUEUED", 0
	default:
		return jobInProgress, "IN_PROGRESS", total * int64(elapsed) / int64(j.duration)
	}
}

func (s *Simulator) handleExport(c call) reply {
	body, err := readBody(c.body)
	if err != nil {
		return failure(err)
	}
	if body.Format != "csv" && body.Format != "json" {
		return failure(badRequestf("format must be csv or json, not %q", body.Format))
	}
	compiled, err := s.compile(body)
	if err != nil {
		return failure(err)
	}
	s.nextJob++
	s.jobs[s.nextJob] = &job{
		id: s.nextJob, owner: c.key.ID, format: body.Format, records: events(s.run(compiled)), created: s.cfg.Now(),
		duration: s.cfg.JobDuration, fails: c.fault.FailJob, params: json.RawMessage(c.body),
	}
	return ok(map[string]int64{"job_id": s.nextJob})
}

// lookupJob finds a job the caller's key may see. A job younger than JobVisibleAfter is not found yet.
// The caller holds s.mu.
func (s *Simulator) lookupJob(c call) (*job, *reply) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	j, found := s.jobs[id]
	now := s.cfg.Now()
	if err != nil || !found || j.owner != c.key.ID || now.Sub(j.created) > s.cfg.JobTTL || now.Sub(j.created) < s.cfg.JobVisibleAfter {
		rep := errorReply(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("job %s not found", c.r.PathValue("id")))
		return nil, &rep
	}
	return j, nil
}

func (s *Simulator) jobBody(j *job) map[string]any {
	now := s.cfg.Now()
	status, message, completed := j.status(now)
	updated := j.created
	switch status {
	case jobCompleted, jobFailed:
		updated = j.created.Add(j.duration)
	case jobInProgress:
		updated = now
	}
	body := map[string]any{
		"id":               j.id,
		"type":             "EXTERNAL",
		"org_key":          s.cfg.OrgKey,
		"status":           status,
		"create_time":      formatTime(j.created),
		"last_update_time": formatTime(updated),
		"connector_id":     j.owner,
		"job_parameters":   map[string]any{"job_parameters": nil},
		"progress":         map[string]any{"num_total": len(j.records), "num_completed": completed, "message": message},
	}
	if s.cfg.JobParams == "echo" {
		body["job_parameters"] = map[string]any{"job_parameters": j.params}
	}
	if status == jobFailed {
		body["errors"] = "the export failed while writing the file"
	}
	return body
}

func (s *Simulator) handleJobs(c call) reply {
	results := []map[string]any{}
	for _, j := range s.jobs {
		if j.owner == c.key.ID {
			results = append(results, s.jobBody(j))
		}
	}
	return ok(map[string]any{"num_found": len(results), "results": results})
}

func (s *Simulator) handleJob(c call) reply {
	j, missing := s.lookupJob(c)
	if missing != nil {
		return *missing
	}
	return ok(s.jobBody(j))
}

func (s *Simulator) handleProgress(c call) reply {
	j, missing := s.lookupJob(c)
	if missing != nil {
		return *missing
	}
	_, message, completed := j.status(s.cfg.Now())
	return ok(map[string]any{"num_total": len(j.records), "num_completed": completed, "message": message})
}

// csvHeader is the column order of a CSV export.
var csvHeader = []string{"create_time", "actor", "actor_ip", "description", "flagged", "verbose", "org_key", "request_url"}

func (s *Simulator) handleDownload(c call) reply {
	j, missing := s.lookupJob(c)
	if missing != nil {
		return *missing
	}
	if status, _, _ := j.status(s.cfg.Now()); status != jobCompleted {
		return errorReply(http.StatusConflict, "CONFLICT", fmt.Sprintf("job %d is %s; download it once it is COMPLETED", j.id, status))
	}
	if s.cfg.StrictAccept && !accepts(c.r.Header.Get("Accept"), exportType(j.format)) {
		return errorReply(http.StatusNotAcceptable, "NOT_ACCEPTABLE", fmt.Sprintf("the file is %s, which Accept %q does not take", exportType(j.format), c.r.Header.Get("Accept")))
	}
	if s.cfg.DownloadRedirect != "" {
		token := make([]byte, 16)
		_, _ = rand.Read(token)
		name := hex.EncodeToString(token)
		s.files[name] = j
		return reply{status: http.StatusFound, header: http.Header{"Location": {s.cfg.DownloadRedirect + "/files/" + name}},
			body: map[string]string{"location": s.cfg.DownloadRedirect + "/files/" + name}}
	}
	if c.fault.Truncate {
		return reply{stream: truncatedExport(j)}
	}
	return reply{stream: exportStream(j, time.Duration(c.fault.SlowBodyMS)*time.Millisecond)}
}

// truncatedExport announces the whole file's length and sends half of it, as a connection that breaks off.
func truncatedExport(j *job) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		var whole bytes.Buffer
		out := bufio.NewWriter(&whole)
		writeExport(out, j.format, j.records, 0)
		_ = out.Flush()
		w.Header().Set("Content-Length", strconv.Itoa(whole.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(whole.Bytes()[:whole.Len()/2])
	}
}

// FileHandler serves the files a download redirects to when DownloadRedirect is set: another host, as a storage
// service would be, that takes no credentials. Tests check that none reach it.
func (s *Simulator) FileHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/{token}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats["file"]++
		if r.Header.Get("X-Auth-Token") != "" || r.Header.Get("Authorization") != "" {
			s.stats["file with credentials"]++
		}
		j, found := s.files[r.PathValue("token")]
		s.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		exportStream(j, 0)(w)
	})
	return mux
}

func exportType(format string) string {
	if format == "csv" {
		return "text/csv"
	}
	return "application/json"
}

// accepts reports whether an Accept header takes a media type: no header, */*, type/* or the type itself.
func accepts(header, mediaType string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	major, _, _ := strings.Cut(mediaType, "/")
	for _, r := range strings.Split(header, ",") {
		r, _, _ = strings.Cut(r, ";")
		switch strings.TrimSpace(r) {
		case "*/*", major + "/*", mediaType:
			return true
		}
	}
	return false
}

func exportStream(j *job, slow time.Duration) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if j.format == "csv" {
			w.Header().Set("Content-Type", "text/csv")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusOK)
		out := bufio.NewWriterSize(w, 32<<10)
		defer func() { _ = out.Flush() }() // a client that went away is no error of the simulator's
		writeExport(out, j.format, j.records, slow)
	}
}

// writeExport writes records as CSV (RFC 4180, the header above) or as one JSON array, a record at a time.
func writeExport(out *bufio.Writer, format string, records []Event, pause time.Duration) {
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(out)
		_ = cw.Write(csvHeader)
	} else {
		_, _ = out.WriteString("[")
	}
	for i, rec := range records {
		if cw != nil {
			_ = cw.Write([]string{formatTime(rec.CreateTime), rec.Actor, rec.ActorIP, rec.Description,
				strconv.FormatBool(rec.Flagged), strconv.FormatBool(rec.Verbose), rec.OrgKey, rec.RequestURL})
		} else {
			if i > 0 {
				_, _ = out.WriteString(",")
			}
			b, _ := json.Marshal(rec)
			_, _ = out.Write(b)
		}
		if pause > 0 && i%100 == 99 {
			if cw != nil {
				cw.Flush()
			}
			_ = out.Flush()
			time.Sleep(pause)
		}
	}
	if cw != nil {
		cw.Flush()
	} else {
		_, _ = out.WriteString("]")
	}
}

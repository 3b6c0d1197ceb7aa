package cbcsim

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// job is an export: a snapshot of the matches taken when it was started, served once it completes.
type job struct {
	id        int64
	owner     string // the API ID that started it; no other key sees it
	format    string
	records   []cbc.Record
	created   time.Time
	duration  time.Duration
	fails     bool
	reqParams cbc.ExportRequest
}

func (j *job) status(now time.Time) (string, int64) {
	total := int64(len(j.records))
	elapsed := now.Sub(j.created)
	switch {
	case elapsed >= j.duration && j.fails:
		return cbc.JobFailed, 0
	case elapsed >= j.duration:
		return cbc.JobCompleted, total
	case elapsed < j.duration/10:
		return cbc.JobCreated, 0
	default:
		return cbc.JobInProgress, total * int64(elapsed) / int64(j.duration)
	}
}

func (s *Simulator) handleExport(c call) reply {
	var req cbc.ExportRequest
	if err := decodeStrict(c.r, &req); err != nil {
		return failure(err)
	}
	if req.Format != cbc.FormatCSV && req.Format != cbc.FormatJSON {
		return failure(badRequestf("format must be csv or json, not %q", req.Format))
	}
	compiled, err := s.compile(req.Query, req.Criteria, req.Exclusions, req.Sort)
	if err != nil {
		return failure(err)
	}
	h := s.run(compiled)
	records := make([]cbc.Record, h.len())
	for i := range records {
		records[i] = h.at(i)
	}
	s.nextJob++
	s.jobs[s.nextJob] = &job{
		id: s.nextJob, owner: c.key.ID, format: req.Format, records: records, created: s.cfg.Now(),
		duration: s.cfg.JobDuration, fails: c.fault.FailJob, reqParams: req,
	}
	return ok(map[string]int64{"job_id": s.nextJob})
}

// lookupJob finds a job the caller's key may see. The caller holds s.mu.
func (s *Simulator) lookupJob(c call) (*job, *reply) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	j, found := s.jobs[id]
	if err != nil || !found || j.owner != c.key.ID || s.cfg.Now().Sub(j.created) > s.cfg.JobTTL {
		rep := errorReply(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("job %s not found", c.r.PathValue("id")))
		return nil, &rep
	}
	return j, nil
}

func (s *Simulator) jobBody(j *job) map[string]any {
	now := s.cfg.Now()
	status, completed := j.status(now)
	updated := j.created
	if status != cbc.JobCreated {
		updated = now
		if status == cbc.JobCompleted || status == cbc.JobFailed {
			updated = j.created.Add(j.duration)
		}
	}
	body := map[string]any{
		"id":               j.id,
		"type":             "EXTERNAL",
		"org_key":          s.cfg.OrgKey,
		"status":           status,
		"create_time":      cbc.FormatTime(j.created),
		"last_update_time": cbc.FormatTime(updated),
		"connector_id":     j.owner,
		"job_parameters":   map[string]any{"job_parameters": j.reqParams},
		"progress":         map[string]int64{"num_total": int64(len(j.records)), "num_completed": completed},
	}
	if status == cbc.JobFailed {
		body["errors"] = []string{"the export failed"}
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
	status, completed := j.status(s.cfg.Now())
	return ok(map[string]any{"num_total": len(j.records), "num_completed": completed, "message": status})
}

// csvHeader is the column order of a CSV export.
var csvHeader = []string{"create_time", "actor", "actor_ip", "description", "flagged", "verbose", "org_key", "request_url"}

func (s *Simulator) handleDownload(c call) reply {
	j, missing := s.lookupJob(c)
	if missing != nil {
		return *missing
	}
	if status, _ := j.status(s.cfg.Now()); status != cbc.JobCompleted {
		return errorReply(http.StatusConflict, "CONFLICT", fmt.Sprintf("job %d is %s; download it once it is COMPLETED", j.id, status))
	}
	records, format, slow := j.records, j.format, time.Duration(c.fault.SlowBodyMS)*time.Millisecond
	return reply{stream: func(w http.ResponseWriter) {
		if format == cbc.FormatCSV {
			w.Header().Set("Content-Type", "text/csv")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusOK)
		out := bufio.NewWriterSize(w, 32<<10)
		defer out.Flush()
		writeExport(out, format, records, slow)
	}}
}

// writeExport writes records as CSV (RFC 4180, the header above) or as one JSON array, a record at a time.
func writeExport(out *bufio.Writer, format string, records []cbc.Record, pause time.Duration) {
	var cw *csv.Writer
	if format == cbc.FormatCSV {
		cw = csv.NewWriter(out)
		_ = cw.Write(csvHeader)
	} else {
		_, _ = out.WriteString("[")
	}
	for i, rec := range records {
		if cw != nil {
			_ = cw.Write([]string{cbc.FormatTime(rec.CreateTime), rec.Actor, rec.ActorIP, rec.Description,
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

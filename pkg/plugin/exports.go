package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/search"
)

// Exports of one data source instance. CBC keeps a job 30 days; so does the registry, for at most maxExports jobs.
const (
	exportTTL     = 30 * 24 * time.Hour
	maxExports    = 500
	downloadChunk = 256 << 10
)

type exportJob struct {
	format    string
	created   time.Time
	completed bool // a status answer said COMPLETED, which is final: the download need not ask again
}

// exportRegistry remembers the jobs started through this data source: only those are served, so a user cannot
// read another export of the same API key by guessing its id.
type exportRegistry struct {
	mu   sync.Mutex
	jobs map[int64]exportJob
}

func (r *exportRegistry) add(id int64, format string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[int64]exportJob{}
	}
	var oldest int64
	for jid, j := range r.jobs {
		if now.Sub(j.created) > exportTTL {
			delete(r.jobs, jid)
		} else if oldest == 0 || j.created.Before(r.jobs[oldest].created) {
			oldest = jid
		}
	}
	if len(r.jobs) >= maxExports {
		delete(r.jobs, oldest)
	}
	r.jobs[id] = exportJob{format: format, created: now}
}

// completed remembers that CBC said the job completed.
func (r *exportRegistry) completed(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j, ok := r.jobs[id]; ok {
		j.completed = true
		r.jobs[id] = j
	}
}

func (r *exportRegistry) get(id int64) (exportJob, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	return j, ok
}

// exportRequest is the body of POST exports: the panel's query as the editor holds it (variables already
// interpolated), the format, and the dashboard's time range in epoch milliseconds.
type exportRequest struct {
	Query  json.RawMessage `json:"query"`
	Format string          `json:"format"`
	From   int64           `json:"from"`
	To     int64           `json:"to"`
}

// exportStatus is what GET exports/{id} answers.
type exportStatus struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	NumTotal     *int64 `json:"numTotal,omitempty"` // absent while CBC reports no progress: the job is working
	NumCompleted *int64 `json:"numCompleted,omitempty"`
	Message      string `json:"message,omitempty"`
	Format       string `json:"format"`
}

func (d *Datasource) handleStartExport(w http.ResponseWriter, r *http.Request) {
	var body exportRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		message := "the export request is not valid JSON: " + err.Error()
		if errors.Is(err, io.EOF) {
			message = `the export request is empty: send {"format": "csv" or "json", "from": ms, "to": ms, "query": {…}}`
		}
		writeError(w, http.StatusBadRequest, message)
		return
	}
	if body.Format != cbc.FormatCSV && body.Format != cbc.FormatJSON {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format must be csv or json, not %q", body.Format))
		return
	}
	if body.From <= 0 || body.To <= 0 {
		writeError(w, http.StatusBadRequest, "from and to (epoch milliseconds) are required: an export covers the dashboard's time range")
		return
	}
	if len(body.Query) == 0 {
		body.Query = json.RawMessage(`{}`)
	}
	q, err := models.ParseQuery(backend.DataQuery{RefID: "export", JSON: body.Query, TimeRange: backend.TimeRange{
		From: time.UnixMilli(body.From), To: time.UnixMilli(body.To),
	}})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.FiltersPlaces() {
		writeError(w, http.StatusBadRequest, "CBC's exports cannot filter by country or network: remove those filters to export, or download the panel's data (Inspect > Data)")
		return
	}
	asked := search.Request(q)
	req := cbc.ExportRequest{Query: asked.Query, Criteria: asked.Criteria, Exclusions: asked.Exclusions, Sort: asked.Sort, Format: body.Format}
	id, err := d.client.StartExport(r.Context(), req)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	d.exports.add(id, body.Format, time.Now())
	writeJSON(w, http.StatusCreated, exportStatus{ID: id, Status: cbc.JobCreated, Format: body.Format})
}

// exportID reads and checks the {id} of an export route.
func (d *Datasource) exportID(w http.ResponseWriter, r *http.Request) (int64, exportJob, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("export id %q is not a job id", r.PathValue("id")))
		return 0, exportJob{}, false
	}
	job, ok := d.exports.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("export %d was not started through this data source (or is older than 30 days)", id))
		return 0, exportJob{}, false
	}
	return id, job, true
}

// exportJob reads the {id} of an export route and the job's state in CBC, answering the errors itself.
func (d *Datasource) exportJob(w http.ResponseWriter, r *http.Request) (int64, exportJob, cbc.Job, bool) {
	id, job, ok := d.exportID(w, r)
	if !ok {
		return 0, exportJob{}, cbc.Job{}, false
	}
	cbcJob, err := d.client.Job(r.Context(), id)
	if cbc.KindOf(err) == cbc.KindNotFound && time.Since(job.created) < cbc.JobVisibleWithin {
		// A job CBC created moments ago may not be visible yet: it is starting, not expired.
		return id, job, cbc.Job{ID: id, Status: cbc.JobCreated}, true
	}
	if err != nil {
		writeAPIError(w, expired(err, id))
		return 0, exportJob{}, cbc.Job{}, false
	}
	return id, job, cbcJob, true
}

func (d *Datasource) handleExportStatus(w http.ResponseWriter, r *http.Request) {
	id, job, cbcJob, ok := d.exportJob(w, r)
	if !ok {
		return
	}
	status := exportStatus{ID: id, Status: cbcJob.Status, Format: job.format}
	if p := cbcJob.Progress; p != nil && (p.NumTotal > 0 || cbcJob.Status == cbc.JobCompleted) {
		status.NumTotal, status.NumCompleted, status.Message = &p.NumTotal, &p.NumCompleted, p.Message
	}
	switch cbcJob.Status {
	case cbc.JobCompleted:
		d.exports.completed(id)
	case cbc.JobFailed:
		status.Message = fmt.Sprintf("Carbon Black Cloud could not complete the export (%v); start it again", cbcJob.Errors)
	}
	writeJSON(w, http.StatusOK, status)
}

// handleExportDownload streams the file through in chunks: it is never held whole, nor written to disk. A job
// whose completion a status answer already reported is downloaded without asking CBC about it again.
func (d *Datasource) handleExportDownload(w http.ResponseWriter, r *http.Request) {
	id, job, ok := d.exportID(w, r)
	if !ok {
		return
	}
	cbcJob := cbc.Job{ID: id, Status: cbc.JobCompleted}
	if !job.completed {
		if id, job, cbcJob, ok = d.exportJob(w, r); !ok {
			return
		}
	}
	switch cbcJob.Status {
	case cbc.JobCompleted:
	case cbc.JobFailed:
		writeError(w, http.StatusConflict, fmt.Sprintf("export %d failed in Carbon Black Cloud; start it again", id))
		return
	default:
		writeError(w, http.StatusConflict, fmt.Sprintf("export %d is %s; download it once it is COMPLETED", id, cbcJob.Status))
		return
	}
	file, err := d.client.Download(r.Context(), id)
	if err != nil {
		writeAPIError(w, expired(err, id))
		return
	}
	defer file.Body.Close()
	contentType := file.ContentType
	if contentType == "" {
		contentType = map[string]string{cbc.FormatCSV: "text/csv", cbc.FormatJSON: "application/json"}[job.format]
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="cbc-audit-logs-%d.%s"`, id, job.format))
	if file.Length >= 0 {
		// With the length announced, a browser knows a download that stops short for what it is.
		w.Header().Set("Content-Length", strconv.FormatInt(file.Length, 10))
	}
	w.WriteHeader(http.StatusOK)
	body := file.Body
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, downloadChunk)
	for {
		// Whole chunks: each flush is one message to Grafana, and the network hands over far smaller reads.
		n, err := fill(body, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			d.metrics.ExportBytes(n)
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				backend.Logger.Warn("export download cut short", "job", id, "error", err)
				failStream(r, fmt.Errorf("the download of export %d from Carbon Black Cloud broke off: %w", id, err))
			}
			return
		}
	}
}

// expired reads CBC's 404 for a job this data source started as its expiry.
func expired(err error, id int64) error {
	if cbc.KindOf(err) == cbc.KindNotFound {
		return expiredExport{id: id}
	}
	return err
}

// fill reads into buf until it is full or the body ends; io.EOF means the body ended where it should.
func fill(body io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := body.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

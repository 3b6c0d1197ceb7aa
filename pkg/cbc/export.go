package cbc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Job statuses.
const (
	JobCreated    = "CREATED"
	JobInProgress = "IN_PROGRESS"
	JobCompleted  = "COMPLETED"
	JobFailed     = "FAILED"
)

// Export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Job is an asynchronous CBC job, such as an export.
type Job struct {
	ID             int64          `json:"id"`
	Type           string         `json:"type"`
	OrgKey         string         `json:"org_key"`
	Status         string         `json:"status"`
	CreateTime     string         `json:"create_time"`
	LastUpdateTime string         `json:"last_update_time"`
	Progress       *JobProgress   `json:"progress,omitempty"`
	Errors         any            `json:"errors,omitempty"`
	ConnectorID    string         `json:"connector_id,omitempty"`
	JobParameters  map[string]any `json:"job_parameters,omitempty"`
}

// JobProgress is how far a job has come.
type JobProgress struct {
	NumTotal     int64  `json:"num_total"`
	NumCompleted int64  `json:"num_completed"`
	Message      string `json:"message,omitempty"`
}

// Done reports whether the job has finished, successfully or not.
func (j Job) Done() bool { return j.Status == JobCompleted || j.Status == JobFailed }

// StartExport starts an export of req's matches as a file in req.Format and returns the job's id. CBC creates a
// job for each start it handles, so a start whose outcome is unknown (no answer, a 5xx) is not simply sent
// again: the job may exist already, and is looked for in the jobs list first.
func (c *Client) StartExport(ctx context.Context, req ExportRequest) (int64, error) {
	if req.Format != FormatCSV && req.Format != FormatJSON {
		return 0, fmt.Errorf("export format must be %q or %q, not %q", FormatCSV, FormatJSON, req.Format)
	}
	criteria, err := c.onWire(ctx, req.Criteria)
	if err != nil {
		return 0, err
	}
	req.Criteria = criteria
	since := time.Now().Add(-exportClockSkew)
	for attempt := 1; ; attempt++ {
		id, err := c.startExport(ctx, req)
		var apiErr *Error
		if err == nil || !errors.As(err, &apiErr) || !apiErr.MaybeActed || attempt >= maxAttempts || ctx.Err() != nil {
			return c.claimExport(id, err)
		}
		if id, found := c.findExport(ctx, req, since); found {
			return c.claimExport(id, nil)
		}
		if sleep(ctx, c.backoff(attempt)) != nil {
			return 0, err
		}
	}
}

// exportClockSkew is how far CBC's clock may be behind ours when a lookup compares a job's creation time with
// the moment the start was sent.
const exportClockSkew = time.Minute

// claimExport remembers a job this client started.
func (c *Client) claimExport(id int64, err error) (int64, error) {
	if err == nil {
		c.exportsMu.Lock()
		c.exports[id] = true
		c.exportsMu.Unlock()
	}
	return id, err
}

func (c *Client) startExport(ctx context.Context, req ExportRequest) (int64, error) {
	body, err := fetchJSON[struct {
		JobID *int64 `json:"job_id"`
	}](ctx, c, endpointExport, http.MethodPost, c.orgPath("audit_log/v1", "logs/_export"), req)
	if err != nil {
		return 0, err
	}
	if body.JobID == nil {
		return 0, &Error{Kind: KindMalformed, Message: "Carbon Black Cloud accepted the export but sent no job_id"}
	}
	return *body.JobID, nil
}

// findExport looks for the job an unanswered start may have made, by what a real job carries: an export
// (type EXTERNAL) of this key, created since the start was sent, that this client has not claimed, and whose
// parameters, where CBC echoes them, are the start's. CBC's own jobs write job_parameters as null, so the
// parameters cannot be the test. Among several, the first created is the start's.
func (c *Client) findExport(ctx context.Context, req ExportRequest, since time.Time) (int64, bool) {
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return 0, false
	}
	want, _ := json.Marshal(req)
	var wantParams any
	_ = json.Unmarshal(want, &wantParams)
	c.exportsMu.Lock()
	defer c.exportsMu.Unlock()
	var found *Job
	for i, job := range jobs {
		created, err := time.Parse(time.RFC3339Nano, job.CreateTime)
		params := job.JobParameters["job_parameters"]
		switch {
		case job.Status == JobFailed, c.exports[job.ID], err != nil, created.Before(since),
			job.Type != "" && !strings.EqualFold(job.Type, "EXTERNAL"),
			job.ConnectorID != "" && c.cfg.APIID != "" && job.ConnectorID != c.cfg.APIID,
			params != nil && !reflect.DeepEqual(params, wantParams):
			continue
		}
		if found == nil || job.ID < found.ID {
			found = &jobs[i]
		}
	}
	if found == nil {
		return 0, false
	}
	return found.ID, true
}

// Jobs lists the jobs this API key started.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	body, err := fetchJSON[struct {
		Results []Job `json:"results"`
	}](ctx, c, endpointJobs, http.MethodGet, c.orgPath("jobs/v1", "jobs"), nil)
	return body.Results, err
}

func (c *Client) jobPath(id int64, rest string) string {
	return c.orgPath("jobs/v1", "jobs/"+strconv.FormatInt(id, 10)+rest)
}

// Job reads one job.
func (c *Client) Job(ctx context.Context, id int64) (Job, error) {
	return fetchJSON[Job](ctx, c, endpointJobs, http.MethodGet, c.jobPath(id, ""), nil)
}

// JobProgress reads how far a job has come.
func (c *Client) JobProgress(ctx context.Context, id int64) (JobProgress, error) {
	return fetchJSON[JobProgress](ctx, c, endpointJobs, http.MethodGet, c.jobPath(id, "/progress"), nil)
}

// WaitForJob polls a job until it completes or fails, backing off from 100 ms to 2 s as the SDK does. A new job
// may answer 404 for a moment before CBC shows it: 404s are tolerated for JobVisibleWithin, and two consecutive
// server errors at any time.
func (c *Client) WaitForJob(ctx context.Context, id int64) (Job, error) {
	delay := 100 * time.Millisecond
	started := time.Now()
	serverErrors := 0
	for {
		job, err := c.Job(ctx, id)
		switch {
		case err == nil && job.Done():
			return job, nil
		case err == nil:
			serverErrors = 0
		case KindOf(err) == KindNotFound && time.Since(started) < JobVisibleWithin:
		case KindOf(err) == KindServer && serverErrors < 2:
			serverErrors++
		default:
			return job, err
		}
		if err := sleep(ctx, delay); err != nil {
			return job, err
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// JobVisibleWithin is how long a new job may answer 404 before that means it does not exist.
const JobVisibleWithin = 2 * time.Minute

// File is a job's file as it streams in.
type File struct {
	Body        io.ReadCloser // the caller must close it; a body cut short fails its last read
	ContentType string
	Length      int64 // -1 when CBC does not say
}

// Download streams a completed job's file; it is never read whole. A redirect to a storage host is followed
// without the credentials.
func (c *Client) Download(ctx context.Context, id int64) (File, error) {
	resp, err := c.send(ctx, c.download, endpointJobs, http.MethodGet, c.jobPath(id, "/download"), nil) //nolint:bodyclose // the caller closes File.Body
	if err != nil {
		return File{}, err
	}
	return File{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), Length: resp.ContentLength}, nil
}

package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/signals"
)

func (d *Datasource) resourceHandler() backend.CallResourceHandler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fields", d.handleFields)
	mux.HandleFunc("GET /detections", handleDetections)
	mux.HandleFunc("GET /values", d.configured(d.handleValues))
	mux.HandleFunc("GET /queue/status", d.configured(d.handleQueueStatus))
	mux.HandleFunc("POST /exports", d.configured(d.handleStartExport))
	mux.HandleFunc("GET /exports/{id}", d.configured(d.handleExportStatus))
	mux.HandleFunc("GET /exports/{id}/download", d.configured(d.handleExportDownload))
	return httpadapter.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil { // the adapter sends an empty body as none at all
			r.Body = http.NoBody
		}
		mux.ServeHTTP(w, r)
	}))
}

// streamFailure carries an error out of a resource handler that has already sent its status: CallResource
// returns it, so Grafana aborts the response instead of ending it as if it were whole.
type streamFailure struct{ err error }

type streamFailureKey struct{}

// failStream records why a response that is under way cannot be finished.
func failStream(r *http.Request, err error) {
	if f, ok := r.Context().Value(streamFailureKey{}).(*streamFailure); ok {
		f.err = err
	}
}

// CallResource serves the data source's resources: fields and values for the editors, exports, queue status.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	failure := &streamFailure{}
	if err := d.resources.CallResource(context.WithValue(ctx, streamFailureKey{}, failure), req, sender); err != nil {
		return err
	}
	return failure.err
}

// configured answers with the settings' problems instead of calling next while the settings are unusable.
func (d *Datasource) configured(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := d.configError(); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		next(w, r)
	}
}

// handleFields serves the field vocabulary (pkg/models/fields.json): what each field accepts.
func (d *Datasource) handleFields(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(models.FieldsJSON())
}

// handleDetections serves the security signals' catalogue (pkg/signals/detections.json).
func handleDetections(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(signals.CatalogueJSON())
}

// handleValues answers GET values?field=actor&from=<ms>&to=<ms>: the field's distinct values among the newest
// matching records, most frequent first.
func (d *Datasource) handleValues(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("field")
	if !slices.Contains(models.ValueFields, name) {
		writeError(w, http.StatusBadRequest, "field must be one of "+strings.Join(models.ValueFields, ", "))
		return
	}
	to := time.Now()
	from := to.Add(-24 * time.Hour)
	if v, err := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64); err == nil {
		from = time.UnixMilli(v)
	}
	if v, err := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64); err == nil {
		to = time.UnixMilli(v)
	}
	values, err := d.search.Values(r.Context(), name, from, to)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, values)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"message": message})
}

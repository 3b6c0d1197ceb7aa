package plugin

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/tracing"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/models"
)

var _ backend.QueryDataHandler = (*Datasource)(nil)

// QueryData answers each query on its own: a bad query gets its own error and never fails its siblings.
// Queries run concurrently, at most the configured concurrency at once, sharing the client's request budget.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	response := backend.NewQueryDataResponse()
	if err := d.configError(); err != nil {
		for _, q := range req.Queries {
			response.Responses[q.RefID] = errorResponse(err)
		}
		return response, nil
	}
	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		slots     = make(chan struct{}, d.settings.EffectiveConcurrency())
		budget    = frames.MaxResponseBytes / max(1, len(req.Queries))
		fromAlert = req.Headers[backend.FromAlertHeaderName] != ""
	)
	for _, q := range req.Queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			res := d.query(ctx, q, budget, fromAlert)
			mu.Lock()
			response.Responses[q.RefID] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return response, nil
}

func (d *Datasource) query(ctx context.Context, dq backend.DataQuery, budget int, fromAlert bool) backend.DataResponse {
	q, err := models.ParseQuery(dq)
	if err != nil {
		return errorResponse(models.NewUserError(err))
	}
	ctx, span := tracing.DefaultTracer().Start(ctx, "cbcauditlogs.query", trace.WithAttributes(
		attribute.String("query.refId", q.RefID), attribute.String("query.type", q.QueryType),
		attribute.String("query.format", q.Format), attribute.Int("query.limit", q.Limit)))
	defer span.End()
	release, err := d.search.Admit(ctx, q)
	if err != nil {
		return errorResponse(err)
	}
	defer release()
	var out data.Frames
	switch q.QueryType {
	case models.QueryTypeCount:
		out, err = d.search.Count(ctx, q, fromAlert)
	case models.QueryTypeQueue:
		out = d.queueQuery(q)
	case models.QueryTypeSignals:
		out, err = d.signalsFrames(ctx, q, fromAlert)
	default:
		out, err = d.searchFrames(ctx, q, budget, fromAlert)
	}
	if err != nil {
		span.SetStatus(codes.Error, "failed")
		return errorResponse(err)
	}
	rows := 0
	for _, f := range out {
		rows += f.Rows()
	}
	span.SetAttributes(attribute.Int("query.rows", rows), attribute.Int("query.frames", len(out)))
	return backend.DataResponse{Frames: out}
}

// searchFrames answers a logs or table query.
func (d *Datasource) searchFrames(ctx context.Context, q models.Query, budget int, fromAlert bool) (data.Frames, error) {
	found, err := d.search.Search(ctx, q, budget, fromAlert)
	if err != nil {
		return nil, err
	}
	var out data.Frames
	if q.Format == models.FormatTable {
		out = data.Frames{frames.Table(q.RefID, found.Records, d.search.Placer())}
	} else {
		out = frames.LogsFrames(q.RefID, found.Records, d.search.Placer())
	}
	shown, _ := json.MarshalIndent(found.Executed, "", "  ")
	out[0].Meta.ExecutedQueryString = string(shown)
	out[0].Meta.Notices = found.Notices
	return out, nil
}

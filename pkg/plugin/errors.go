package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// One table says what every error means for the user: the status Grafana shows and counts, and whose fault it
// is. What the user wrote is a 400; CBC's refusals pass through (401, 403, 404, 409, 429); CBC failing is a 502,
// or a 504 when it did not answer in time; a 500 is only ever our own bug. Queries, resource routes and the
// health check all read it.

// expiredExport is CBC's 404 for a job this data source started: CBC drops jobs after 30 days.
type expiredExport struct{ id int64 }

func (e expiredExport) Error() string {
	return fmt.Sprintf("export %d has expired in Carbon Black Cloud (jobs are kept 30 days); start it again", e.id)
}

// kindStatus is the status of each kind of CBC failure.
var kindStatus = map[cbc.Kind]backend.Status{
	cbc.KindQuerySyntax:  backend.StatusBadRequest,
	cbc.KindBadRequest:   backend.StatusBadRequest,
	cbc.KindUnauthorized: backend.StatusUnauthorized,
	cbc.KindForbidden:    backend.StatusForbidden,
	cbc.KindNotFound:     backend.StatusNotFound,
	cbc.KindConflict:     backend.Status(http.StatusConflict),
	cbc.KindRateLimited:  backend.StatusTooManyRequests,
	cbc.KindServer:       backend.StatusBadGateway,
	cbc.KindUnreachable:  backend.StatusBadGateway,
	cbc.KindMalformed:    backend.StatusBadGateway,
}

// classify returns the status and the error source of err.
func classify(err error) (backend.Status, backend.ErrorSource) {
	var (
		user    models.UserError
		expired expiredExport
		apiErr  *cbc.Error
	)
	switch {
	case errors.As(err, &user):
		return backend.StatusBadRequest, backend.ErrorSourceDownstream
	case errors.As(err, &expired):
		return backend.Status(http.StatusGone), backend.ErrorSourceDownstream
	case errors.As(err, &apiErr):
		status, known := kindStatus[apiErr.Kind]
		if !known {
			return backend.StatusInternal, backend.ErrorSourcePlugin
		}
		if apiErr.Kind == cbc.KindUnreachable && errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			status = backend.StatusTimeout
		}
		return status, apiErr.Source()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return backend.StatusTimeout, backend.ErrorSourceDownstream
	}
	return backend.StatusInternal, backend.ErrorSourcePlugin
}

func isTimeout(err error) bool {
	var netErr interface{ Timeout() bool }
	return errors.As(err, &netErr) && netErr.Timeout()
}

// errorResponse is a query's failure, with its status and source.
func errorResponse(err error) backend.DataResponse {
	status, source := classify(err)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = fmt.Errorf("the query was cancelled or timed out: %w", err)
	}
	return backend.DataResponse{Error: err, ErrorSource: source, Status: status}
}

// writeAPIError answers a resource request with the status that fits the error, and its message.
func writeAPIError(w http.ResponseWriter, err error) {
	status, _ := classify(err)
	writeError(w, int(status), err.Error())
}

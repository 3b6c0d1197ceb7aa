package plugin

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/models"
)

// The table pinned: what the user wrote is 400, CBC's refusals pass through, CBC failing is 502 or 504, and
// only our own bugs are 500.
func TestErrorStatusTable(t *testing.T) {
	timeout := &cbc.Error{Kind: cbc.KindUnreachable, MaybeActed: true, Err: fmt.Errorf("read: %w", context.DeadlineExceeded)}
	cases := []struct {
		err    error
		status int
		source backend.ErrorSource
	}{
		{models.UserErrorf("limit -1 is negative"), 400, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindQuerySyntax, Status: 400}, 400, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindBadRequest, Status: 400}, 400, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindUnauthorized, Status: 401}, 401, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindForbidden, Status: 403}, 403, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindNotFound, Status: 404}, 404, backend.ErrorSourceDownstream},
		{expiredExport{id: 7}, 410, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindConflict, Status: 409}, 409, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindRateLimited, Status: 429}, 429, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindRateLimited}, 429, backend.ErrorSourcePlugin}, // the admin's own budget
		{&cbc.Error{Kind: cbc.KindServer, Status: 503}, 502, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindMalformed}, 502, backend.ErrorSourceDownstream},
		{&cbc.Error{Kind: cbc.KindUnreachable}, 502, backend.ErrorSourceDownstream},
		{timeout, 504, backend.ErrorSourceDownstream},
		{context.DeadlineExceeded, 504, backend.ErrorSourceDownstream},
		{errors.New("a bug of ours"), 500, backend.ErrorSourcePlugin},
	}
	for _, c := range cases {
		status, source := classify(c.err)
		if int(status) != c.status || source != c.source {
			t.Errorf("%T %v: %d %s, want %d %s", c.err, c.err, status, source, c.status, c.source)
		}
	}
	if len(kindStatus) != 10 {
		t.Errorf("the table covers %d kinds of CBC failure; a new kind needs a row", len(kindStatus))
	}
}

package search

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"

	"github.com/seed/cbcauditlogs/pkg/models"
)

// A data source admits queries while the memory they may hold fits a budget, so that a burst of concurrent
// queries waits its turn instead of taking the process past its memory limit (184 MiB by default). A query's
// weight is what its records may take, held and shaped into frames; the largest query runs alone.
const (
	admissionBudget = 160 << 20
	bytesPerRecord  = 1 << 10
	countWeight     = 16 << 20 // a count keeps no records, only the page being read
	signalsWeight   = 64 << 20 // signals keep a small part of each event they read
)

func newAdmission() *semaphore.Weighted { return semaphore.NewWeighted(admissionBudget) }

// queryWeight is the memory a query may hold while it runs.
func queryWeight(q models.Query) int64 {
	switch q.QueryType {
	case models.QueryTypeCount:
		return countWeight
	case models.QueryTypeSignals:
		return signalsWeight
	}
	return min(int64(q.Limit)*bytesPerRecord, admissionBudget)
}

// Admit waits until the query fits the data source's memory budget; release gives its share back.
// Queue queries are admitted too: they copy up to their limit of records out of the buffer.
func (s *Service) Admit(ctx context.Context, q models.Query) (release func(), err error) {
	weight := queryWeight(q)
	if err := s.admission.Acquire(ctx, weight); err != nil {
		return nil, fmt.Errorf("the query waited for other queries of this data source to finish and ran out of time: %w", err)
	}
	return func() { s.admission.Release(weight) }, nil
}

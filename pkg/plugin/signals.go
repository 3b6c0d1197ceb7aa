package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/signals"
)

// signalsFrames answers a signals query from the data source's search service and GeoIP databases.
func (d *Datasource) signalsFrames(ctx context.Context, q models.Query, fromAlert bool) (data.Frames, error) {
	return signals.Answer(ctx, q, fromAlert, d.settings, signals.Inputs{
		Events:    d.search,
		Places:    d.search.Placer(),
		CanLocate: d.places != nil && d.places.City != nil,
		Source:    signals.Source{UID: d.uid, Name: d.name},
	})
}

// Package plugin wires the Grafana plugin SDK's handlers (queries, health, resources, streams) to the CBC client.
package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/queue"
)

var (
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured Carbon Black Cloud data source.
type Datasource struct {
	settings models.Settings
	// settingsErr holds every problem with the settings; the health check shows them and queries refuse to run.
	settingsErr error
	client      *cbc.Client
	cache       *searchCache
	resources   backend.CallResourceHandler
	exports     exportRegistry
	drainer     *queue.Drainer
	uid         string
}

// NewDatasource is the instance factory the SDK calls when a data source is created or its settings change.
// Bad settings do not fail the factory: the health check must be able to say what is wrong.
func NewDatasource(_ context.Context, source backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := models.LoadSettings(source)
	ds := &Datasource{settings: settings, settingsErr: err, uid: source.UID}
	if err == nil {
		ds.settingsErr = settings.Validate()
	}
	ds.resources = ds.resourceHandler()
	if ds.settingsErr == nil {
		baseURL, _ := settings.BaseURL()
		ds.client = cbc.New(cbc.Config{
			BaseURL:       baseURL,
			OrgKey:        settings.OrgKey,
			APIID:         settings.APIID,
			APISecret:     settings.APISecret,
			Timeout:       settings.Timeout(),
			Concurrency:   settings.EffectiveConcurrency(),
			RequestBudget: settings.EffectiveRequestBudget(),
		})
		ds.cache = newSearchCache(settings.CacheTTL())
		ds.drainer = queue.New(ds.client, queue.Config{
			Poll:     settings.QueuePoll(),
			Backfill: settings.QueueBackfill(),
			MaxCount: settings.EffectiveQueueBufferSize(),
			MaxAge:   settings.QueueBufferAge(),
		})
	}
	return ds, nil
}

// Dispose releases the instance when its settings change or the data source is deleted: the queue drain stops
// and no goroutine outlives the instance.
func (d *Datasource) Dispose() {
	if d.drainer != nil {
		d.drainer.Stop()
	}
}

// configError is what queries and resources answer while the settings are unusable.
func (d *Datasource) configError() error {
	if d.settingsErr == nil {
		return nil
	}
	return backend.DownstreamError(fmt.Errorf("the data source is not configured correctly: %w; fix it on the data source's settings page", d.settingsErr))
}

// Package plugin wires the Grafana plugin SDK's handlers (queries, health, resources, streams) to the CBC client.
package plugin

import (
	"errors"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cluster"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/metrics"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/queue"
	"github.com/seed/cbcauditlogs/pkg/replicas"
	"github.com/seed/cbcauditlogs/pkg/search"
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
	search      *search.Service
	resources   backend.CallResourceHandler
	exports     *exportRegistry
	buffer      *queue.Buffer      // the live queue's newest events, for queue queries and live panels
	feed        feed               // what fills the buffer: this instance's drain, or the replicas' stream
	replicas    *replicas.Replicas // nil unless several Grafana replicas share the queue through Redis
	places      *geoip.Locator     // nil without GeoIP databases
	placesErr   error              // why a GeoIP database cannot be read; the health check says it, queries go on
	uid, name   string
	factory     *Factory
	metrics     metrics.Source
}

// feed fills a data source's queue buffer; it starts on first use.
type feed interface {
	Start()
	Stop()
	Status() queue.Status
}

// openQueue sets up the live queue: with replicas, this replica's part in the shared one; after a settings
// change that keeps the same queue, the old instance's buffer and drain, handed over; otherwise a new drain.
func (d *Datasource) openQueue(old *Datasource, shared *cluster.Shared) {
	cfg := queue.Config{
		Poll:     d.settings.QueuePoll(),
		Backfill: d.settings.QueueBackfill(),
		MaxCount: d.settings.EffectiveQueueBufferSize(),
		MaxAge:   d.settings.QueueBufferAge(),
		Logger:   backend.Logger.With("datasource", d.uid),
	}
	var oldDrain *queue.Drainer
	if old != nil && sameQueue(old.settings, d.settings) {
		oldDrain, _ = old.feed.(*queue.Drainer)
	}
	switch {
	case shared != nil:
		// One replica drains, through a lease; each follows the shared stream into its own buffer.
		d.buffer = queue.NewStreamBuffer(cfg)
		d.replicas = replicas.New(shared, d.client, d.buffer, cfg)
		d.feed = d.replicas
	case oldDrain != nil:
		d.buffer = old.buffer.HandOver(cfg)
		d.feed = queue.TakeOver(oldDrain, d.client, d.buffer, cfg)
	default:
		d.buffer = queue.NewBuffer(cfg)
		d.feed = queue.New(d.client, d.buffer, cfg)
	}
}

// openPlaces opens the GeoIP databases the settings name. A database that cannot be read is left out, and
// its error kept for the health check: it never fails a query.
func openPlaces(s models.Settings) (*geoip.Locator, error) {
	if s.GeoIPCityDatabase == "" && s.GeoIPASNDatabase == "" {
		return nil, nil
	}
	l := &geoip.Locator{}
	var errs []error
	if s.GeoIPCityDatabase != "" {
		db, err := geoip.Open(s.GeoIPCityDatabase, geoip.CityDatabase)
		l.City, errs = db, append(errs, err)
	}
	if s.GeoIPASNDatabase != "" {
		db, err := geoip.Open(s.GeoIPASNDatabase, geoip.ASNDatabase)
		l.ASN, errs = db, append(errs, err)
	}
	return l, errors.Join(errs...)
}

// queueStatus is the live queue's status: its feed's and its buffer's.
func (d *Datasource) queueStatus() queue.Status {
	st := d.feed.Status()
	d.buffer.Describe(&st)
	return st
}

// sameQueue reports whether two settings read the same CBC queue: the queue is per API key of an org.
func sameQueue(a, b models.Settings) bool { return queueIdentity(a) == queueIdentity(b) }

// queueIdentity names the queue settings read: its host, org and credential.
func queueIdentity(s models.Settings) string {
	baseURL, _ := s.BaseURL()
	return baseURL + " " + s.OrgKey + " " + s.Identity()
}

// Dispose releases the instance when its settings change or the data source is deleted: the queue drain stops,
// idle connections close, and no goroutine outlives the instance.
func (d *Datasource) Dispose() {
	d.factory.mu.Lock()
	if d.factory.live[d.uid] == d {
		delete(d.factory.live, d.uid)
		d.factory.metrics.Forget(d.uid)
	}
	d.factory.mu.Unlock()
	d.stopQueue()
	if d.client != nil {
		d.client.Close()
	}
}

// stopQueue stops reading the queue and ends the live panels' streams; with replicas, this one gives the lease
// up. Safe to call more than once.
func (d *Datasource) stopQueue() {
	if d.feed != nil {
		d.feed.Stop()
		d.buffer.Close()
	}
}

// configError is what queries and resources answer while the settings are unusable.
func (d *Datasource) configError() error {
	if d.settingsErr == nil {
		return nil
	}
	return models.UserErrorf("the data source is not configured correctly: %w; fix it on the data source's settings page", d.settingsErr)
}

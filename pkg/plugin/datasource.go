// Package plugin wires the Grafana plugin SDK's handlers (queries, health, resources, streams) to the CBC client.
package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/useragent"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cluster"
	"github.com/seed/cbcauditlogs/pkg/history"
	"github.com/seed/cbcauditlogs/pkg/metrics"
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
	history     *history.Cache // nil when the settings turn it off
	resources   backend.CallResourceHandler
	exports     *exportRegistry
	drainer     *queue.Drainer      // with replicas, this replica's feed of the shared stream
	replicas    *replicas           // nil unless several Grafana replicas share the queue through Redis
	admission   *semaphore.Weighted // see admission.go
	uid         string
	factory     *Factory
	metrics     metrics.Source
}

// Factory makes the data source instances. When a data source's settings change, the SDK makes a new instance
// and disposes of the old one a few seconds later; the factory hands the old one's queue drain and export jobs
// to the new one at once, so no event read from the queue and no export started is lost in between.
type Factory struct {
	// Now is the history cache's clock; nil means time.Now. The refresh benchmark replays a dashboard's
	// refreshes a minute apart on a clock of its own.
	Now func() time.Time
	// Cluster is the installation's Redis (grafana.ini, handed over as GF_PLUGIN_* variables); it wins over a
	// data source's own Redis settings.
	Cluster cluster.Config
	mu      sync.Mutex
	live    map[string]*Datasource // by data source uid
	metrics *metrics.Metrics
}

// NewFactory makes a factory with no instances, whose metrics registerer collects (Grafana scrapes the default
// registerer through the SDK).
func NewFactory(registerer prometheus.Registerer) *Factory {
	f := &Factory{live: map[string]*Datasource{}, metrics: metrics.New(registerer), Cluster: cluster.FromEnv(os.Getenv)}
	registerer.MustRegister(metrics.GaugeCollector{Read: f.gauges})
	return f
}

// gauges reads the state of every live data source, for a scrape.
func (f *Factory) gauges() map[string]metrics.Gauges {
	f.mu.Lock()
	live := maps.Clone(f.live)
	f.mu.Unlock()
	out := map[string]metrics.Gauges{}
	for uid, ds := range live {
		var g metrics.Gauges
		if ds.drainer != nil {
			st := ds.drainer.Status()
			g.QueueBacklog, g.Drained, g.Recovered, g.BufferSize = float64(st.Backlog), float64(st.Drained), float64(st.Recovered), float64(st.BufferSize)
			g.IncompleteSpan = float64(len(st.Incomplete))
			if !st.LastPoll.IsZero() {
				g.LastPollAge = time.Since(st.LastPoll).Seconds()
			}
		}
		if ds.cache != nil {
			records, bytes := ds.cache.size()
			g.CacheRecords, g.CacheBytes = float64(records), float64(bytes)
		}
		if ds.history != nil {
			records, bytes := ds.history.Size()
			g.CacheRecords += float64(records)
			g.CacheBytes += float64(bytes)
		}
		out[uid] = g
	}
	return out
}

// NewDatasource is the instance factory the SDK calls when a data source is created or its settings change.
// Bad settings do not fail the factory: the health check must be able to say what is wrong.
func (f *Factory) NewDatasource(ctx context.Context, source backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := models.LoadSettings(source)
	ds := &Datasource{settings: settings, settingsErr: err, uid: source.UID, factory: f, exports: &exportRegistry{}, admission: newAdmission(),
		metrics: f.metrics.For(source.UID)}
	if err == nil {
		ds.settingsErr = settings.Validate()
	}
	if ds.settingsErr != nil {
		// A secret pasted into the wrong field must not come back in the message that names the field.
		ds.settingsErr = redacted(ds.settingsErr, settings.Secrets())
	}
	ds.resources = ds.resourceHandler()
	var shared *cluster.Shared
	if ds.settingsErr == nil {
		baseURL, _ := settings.BaseURL()
		if cfg := cluster.Resolve(f.Cluster, cluster.Config{Addr: settings.RedisAddress, Password: settings.RedisPassword, TLS: settings.RedisTLS, KeyPrefix: settings.RedisKeyPrefix}); cfg.Enabled() {
			shared = cluster.Open(cfg, source.UID, queueIdentity(settings))
		}
		ds.client = cbc.New(cbc.Config{
			BaseURL:       baseURL,
			OrgKey:        settings.OrgKey,
			APIID:         settings.APIID,
			APISecret:     settings.APISecret,
			Timeout:       settings.Timeout(),
			Concurrency:   settings.EffectiveConcurrency(),
			RequestBudget: settings.EffectiveRequestBudget(),
			UserAgent:     userAgent(ctx),
			Bearer:        bearer(settings),
			Logger:        backend.Logger.With("datasource", source.UID),
			Observer:      ds.metrics,
			SharedBudget:  sharedBudget(shared, settings.EffectiveRequestBudget()),
		})
		ds.cache = newSearchCache(settings.CacheTTL(), ds.metrics.Cache)
		if !settings.DisableHistoryCache {
			// A new instance starts empty: settings that change the data change what the slices hold.
			cfg := history.Config{Settle: settings.Settle(), MaxAge: settings.HistoryMaxAge(), MaxBytes: settings.HistoryCacheBytes(), Now: f.Now}
			if shared != nil {
				// Replicas share the slices too; new settings, new keys.
				generation := sha256.Sum256(source.JSONData)
				cfg.Shared = shared.Slices(hex.EncodeToString(generation[:8]))
			}
			ds.history = history.New(cfg)
		}
	}
	f.mu.Lock()
	old := f.live[source.UID]
	f.live[source.UID] = ds
	f.mu.Unlock()
	if old != nil {
		ds.exports = old.exports
	}
	if ds.settingsErr == nil {
		cfg := queue.Config{
			Poll:     settings.QueuePoll(),
			Backfill: settings.QueueBackfill(),
			MaxCount: settings.EffectiveQueueBufferSize(),
			MaxAge:   settings.QueueBufferAge(),
			Logger:   backend.Logger.With("datasource", source.UID),
		}
		switch {
		case shared != nil:
			// One replica drains, through a lease; each follows the shared stream into its own feed.
			ds.replicas = newReplicas(shared, ds.client, cfg)
			ds.drainer = ds.replicas.feed
		case old != nil && old.drainer != nil && old.replicas == nil && sameQueue(old.settings, settings):
			ds.drainer = queue.TakeOver(old.drainer, ds.client, cfg)
		default:
			ds.drainer = queue.New(ds.client, cfg)
		}
	}
	if old != nil {
		old.stopQueue() // another key's or org's queue, or already handed over: it must stop reading now
	}
	return ds, nil
}

// redacted is err with every secret removed from each of its messages.
func redacted(err error, secrets []string) error {
	var out []error
	for _, problem := range splitJoined(err) {
		out = append(out, errors.New(cbc.Redact(problem, secrets...)))
	}
	return errors.Join(out...)
}

// sameQueue reports whether two settings read the same CBC queue: the queue is per API key of an org.
func sameQueue(a, b models.Settings) bool { return queueIdentity(a) == queueIdentity(b) }

// queueIdentity names the queue settings read: its host, org and credential.
func queueIdentity(s models.Settings) string {
	baseURL, _ := s.BaseURL()
	return baseURL + " " + s.OrgKey + " " + s.Identity()
}

// bearer signs in through Cloud Services for the OAuth app and API token credential types; nil for an API key.
func bearer(s models.Settings) *cbc.Bearer {
	csp, _ := s.CSP()
	switch s.AuthType {
	case models.AuthOAuthApp:
		return cbc.OAuthApp(csp, s.ClientID, s.ClientSecret, s.Timeout())
	case models.AuthAPIToken:
		return cbc.APIToken(csp, s.APIToken, s.Timeout())
	}
	return nil
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

// startQueue starts reading the queue on first use: the drain, or with replicas the shared stream and the
// contest for the lease.
func (d *Datasource) startQueue() {
	if d.replicas != nil {
		d.replicas.begin()
		return
	}
	d.drainer.Start()
}

// stopQueue stops reading the queue; with replicas, this one gives the lease up. Safe to call more than once.
func (d *Datasource) stopQueue() {
	switch {
	case d.replicas != nil:
		d.replicas.stopOnce()
	case d.drainer != nil:
		d.drainer.Stop()
	}
}

// sharedBudget is the budget of every replica together, or nil without replicas.
func sharedBudget(shared *cluster.Shared, limit int) cbc.SharedBudget {
	if shared == nil {
		return nil
	}
	return shared.Budget(limit, cbc.BudgetWindow)
}

// configError is what queries and resources answer while the settings are unusable.
func (d *Datasource) configError() error {
	if d.settingsErr == nil {
		return nil
	}
	return userErrorf("the data source is not configured correctly: %w; fix it on the data source's settings page", d.settingsErr)
}

// userAgent names this plugin and the Grafana it runs in, the way the official SDK prefixes its integration's
// name, so that CBC's support can tell this traffic apart.
func userAgent(ctx context.Context) string {
	version := backend.PluginConfigFromContext(ctx).PluginVersion
	if version == "" {
		version = "dev"
	}
	ua := "Grafana-CBC-AuditLogs/" + version
	if grafana := useragent.FromContext(ctx); grafana != nil && !grafana.IsUnknown() {
		ua += " Grafana/" + grafana.GrafanaVersion()
	}
	return ua
}

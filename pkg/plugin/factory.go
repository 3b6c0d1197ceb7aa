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

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cluster"
	"github.com/seed/cbcauditlogs/pkg/history"
	"github.com/seed/cbcauditlogs/pkg/metrics"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/search"
)

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
		if ds.feed != nil {
			st := ds.queueStatus()
			g.QueueBacklog, g.Drained, g.Recovered, g.BufferSize = float64(st.Backlog), float64(st.Drained), float64(st.Recovered), float64(st.BufferSize)
			g.IncompleteSpan = float64(len(st.Incomplete))
			if !st.LastPoll.IsZero() {
				g.LastPollAge = time.Since(st.LastPoll).Seconds()
			}
		}
		if ds.search != nil {
			records, bytes := ds.search.Size()
			g.CacheRecords, g.CacheBytes = float64(records), float64(bytes)
		}
		out[uid] = g
	}
	return out
}

// NewDatasource is the instance factory the SDK calls when a data source is created or its settings change.
// Bad settings do not fail the factory: the health check must be able to say what is wrong.
func (f *Factory) NewDatasource(ctx context.Context, source backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := models.LoadSettings(source)
	if err == nil {
		err = settings.Validate()
	}
	ds := &Datasource{settings: settings, uid: source.UID, name: source.Name, factory: f, exports: &exportRegistry{}, metrics: f.metrics.For(source.UID)}
	if err != nil {
		// A secret pasted into the wrong field must not come back in the message that names the field.
		ds.settingsErr = redacted(err, settings.Secrets())
	}
	ds.resources = ds.resourceHandler()
	var shared *cluster.Shared
	if ds.settingsErr == nil {
		if cfg := cluster.Resolve(f.Cluster, cluster.Config{Addr: settings.RedisAddress, Password: settings.RedisPassword, TLS: settings.RedisTLS, KeyPrefix: settings.RedisKeyPrefix}); cfg.Enabled() {
			shared = cluster.Open(cfg, source.UID, queueIdentity(settings))
		}
		ds.client = newClient(ctx, settings, source.UID, ds.metrics, shared)
		ds.places, ds.placesErr = openPlaces(settings)
		ds.search = search.New(ds.client, search.Config{MaxRecords: settings.EffectiveMaxRecords(), CacheTTL: settings.CacheTTL(),
			AlertSettle: settings.AlertSettle(), History: f.newHistory(settings, source, shared), CacheHit: ds.metrics.Cache, Places: ds.places, PlacesErr: ds.placesErr})
	}
	f.mu.Lock()
	old := f.live[source.UID]
	f.live[source.UID] = ds
	f.mu.Unlock()
	if old != nil {
		ds.exports = old.exports
	}
	if ds.settingsErr == nil {
		ds.openQueue(old, shared)
	}
	if old != nil {
		old.stopQueue() // another key's or org's queue, or already handed over: it must stop reading now
	}
	return ds, nil
}

// newClient is the CBC client of a data source's settings.
func newClient(ctx context.Context, settings models.Settings, uid string, observer metrics.Source, shared *cluster.Shared) *cbc.Client {
	baseURL, _ := settings.BaseURL()
	return cbc.New(cbc.Config{
		BaseURL:       baseURL,
		OrgKey:        settings.OrgKey,
		APIID:         settings.APIID,
		APISecret:     settings.APISecret,
		Timeout:       settings.Timeout(),
		Concurrency:   settings.EffectiveConcurrency(),
		RequestBudget: settings.EffectiveRequestBudget(),
		UserAgent:     userAgent(ctx),
		Bearer:        bearer(settings),
		Logger:        backend.Logger.With("datasource", uid),
		Observer:      observer,
		SharedBudget:  sharedBudget(shared, settings.EffectiveRequestBudget()),
	})
}

// newHistory is the history cache of a data source's settings, or nil when they turn it off. A new instance
// starts empty: settings that change the data change what the slices hold.
func (f *Factory) newHistory(settings models.Settings, source backend.DataSourceInstanceSettings, shared *cluster.Shared) *history.Cache {
	if settings.DisableHistoryCache {
		return nil
	}
	cfg := history.Config{Settle: settings.Settle(), MaxAge: settings.HistoryMaxAge(), MaxBytes: settings.HistoryCacheBytes(), Now: f.Now}
	if shared != nil {
		// Replicas share the slices too; new settings, new keys.
		generation := sha256.Sum256(source.JSONData)
		cfg.Shared = shared.Slices(hex.EncodeToString(generation[:8]))
	}
	return history.New(cfg)
}

// redacted is err with every secret removed from each of its messages.
func redacted(err error, secrets []string) error {
	var out []error
	for _, problem := range splitJoined(err) {
		out = append(out, errors.New(cbc.Redact(problem, secrets...)))
	}
	return errors.Join(out...)
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

// sharedBudget is the budget of every replica together, or nil without replicas.
func sharedBudget(shared *cluster.Shared, limit int) cbc.SharedBudget {
	if shared == nil {
		return nil
	}
	return shared.Budget(limit, cbc.BudgetWindow)
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

// Package metrics holds the plugin's Prometheus metrics, which Grafana serves at
// /api/plugins/seed-cbcauditlogs-datasource/metrics. Every series carries the data source's uid.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "cbcauditlogs"

// Metrics are the plugin's counters and histograms; one set serves every data source, told apart by uid.
type Metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec
	budgetWaits   *prometheus.CounterVec
	cacheRequests *prometheus.CounterVec
	exportBytes   *prometheus.CounterVec
}

// New makes the metrics and registers them with registerer.
func New(registerer prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "cbc_requests_total",
			Help: "Requests to Carbon Black Cloud, by endpoint and HTTP status (0: no answer)."}, []string{"datasource", "endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "cbc_request_duration_seconds",
			Help:    "Time to the answer's headers of requests to Carbon Black Cloud.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"datasource", "endpoint"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "cbc_rate_limited_total",
			Help: "429 answers from Carbon Black Cloud."}, []string{"datasource"}),
		budgetWaits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "budget_waits_total",
			Help: "Requests that waited for the data source's request budget or a 429's Retry-After."}, []string{"datasource"}),
		cacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "cache_requests_total",
			Help: "Searches answered from the cache (hit) or from Carbon Black Cloud (miss)."}, []string{"datasource", "result"}),
		exportBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "export_bytes_total",
			Help: "Bytes of export files streamed to browsers."}, []string{"datasource"}),
	}
	registerer.MustRegister(m.requests, m.duration, m.rateLimited, m.budgetWaits, m.cacheRequests, m.exportBytes)
	return m
}

// Source is the metrics of one data source.
type Source struct {
	m   *Metrics
	uid string
}

// For is the metrics of the data source uid. Its counters start at zero, so that they are there to chart
// before anything happened.
func (m *Metrics) For(uid string) Source {
	m.rateLimited.WithLabelValues(uid)
	m.budgetWaits.WithLabelValues(uid)
	m.cacheRequests.WithLabelValues(uid, "hit")
	m.cacheRequests.WithLabelValues(uid, "miss")
	m.exportBytes.WithLabelValues(uid)
	return Source{m: m, uid: uid}
}

// Request records one request to CBC.
func (s Source) Request(endpoint string, status int, took time.Duration) {
	s.m.requests.WithLabelValues(s.uid, endpoint, strconv.Itoa(status)).Inc()
	s.m.duration.WithLabelValues(s.uid, endpoint).Observe(took.Seconds())
	if status == 429 {
		s.m.rateLimited.WithLabelValues(s.uid).Inc()
	}
}

// BudgetWait records a request that had to wait before it could be sent.
func (s Source) BudgetWait() { s.m.budgetWaits.WithLabelValues(s.uid).Inc() }

// Cache records a search answered from the cache or not.
func (s Source) Cache(hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	s.m.cacheRequests.WithLabelValues(s.uid, result).Inc()
}

// ExportBytes records bytes of an export streamed to a browser.
func (s Source) ExportBytes(n int) { s.m.exportBytes.WithLabelValues(s.uid).Add(float64(n)) }

// Forget drops the series of a data source that is gone.
func (m *Metrics) Forget(uid string) {
	match := prometheus.Labels{"datasource": uid}
	m.requests.DeletePartialMatch(match)
	m.duration.DeletePartialMatch(match)
	m.rateLimited.DeletePartialMatch(match)
	m.budgetWaits.DeletePartialMatch(match)
	m.cacheRequests.DeletePartialMatch(match)
	m.exportBytes.DeletePartialMatch(match)
}

// Gauges are read when Prometheus scrapes: the queue drain's and the cache's state of each live data source.
type Gauges struct {
	QueueBacklog   float64 // CBC's num_available at the last read
	Drained        float64
	Recovered      float64
	BufferSize     float64
	LastPollAge    float64 // seconds; 0 before the first poll
	CacheRecords   float64
	CacheBytes     float64
	IncompleteSpan float64 // spans that may be missing events
}

var (
	gaugeQueueBacklog = prometheus.NewDesc(namespace+"_queue_backlog", "Events waiting in CBC's queue at the last read (num_available).", []string{"datasource"}, nil)
	gaugeDrained      = prometheus.NewDesc(namespace+"_queue_events_drained_total", "Events read from CBC's queue.", []string{"datasource"}, nil)
	gaugeRecovered    = prometheus.NewDesc(namespace+"_queue_events_recovered_total", "Events found by searching a span a failed read may have removed.", []string{"datasource"}, nil)
	gaugeBuffer       = prometheus.NewDesc(namespace+"_queue_buffer_events", "Events in the live queue's buffer.", []string{"datasource"}, nil)
	gaugePollAge      = prometheus.NewDesc(namespace+"_queue_last_poll_age_seconds", "Seconds since the queue was last read.", []string{"datasource"}, nil)
	gaugeIncomplete   = prometheus.NewDesc(namespace+"_queue_incomplete_spans", "Time spans that may be missing events until a search of them succeeds.", []string{"datasource"}, nil)
	gaugeCacheRecords = prometheus.NewDesc(namespace+"_cache_records", "Records held by the search and history caches.", []string{"datasource"}, nil)
	gaugeCacheBytes   = prometheus.NewDesc(namespace+"_cache_bytes", "Approximate bytes held by the search and history caches.", []string{"datasource"}, nil)
)

// GaugeCollector reports Gauges for every data source that read says is live.
type GaugeCollector struct {
	Read func() map[string]Gauges
}

// Describe implements prometheus.Collector.
func (c GaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{gaugeQueueBacklog, gaugeDrained, gaugeRecovered, gaugeBuffer, gaugePollAge, gaugeIncomplete, gaugeCacheRecords, gaugeCacheBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c GaugeCollector) Collect(ch chan<- prometheus.Metric) {
	for uid, g := range c.Read() {
		ch <- prometheus.MustNewConstMetric(gaugeQueueBacklog, prometheus.GaugeValue, g.QueueBacklog, uid)
		ch <- prometheus.MustNewConstMetric(gaugeDrained, prometheus.CounterValue, g.Drained, uid)
		ch <- prometheus.MustNewConstMetric(gaugeRecovered, prometheus.CounterValue, g.Recovered, uid)
		ch <- prometheus.MustNewConstMetric(gaugeBuffer, prometheus.GaugeValue, g.BufferSize, uid)
		ch <- prometheus.MustNewConstMetric(gaugePollAge, prometheus.GaugeValue, g.LastPollAge, uid)
		ch <- prometheus.MustNewConstMetric(gaugeIncomplete, prometheus.GaugeValue, g.IncompleteSpan, uid)
		ch <- prometheus.MustNewConstMetric(gaugeCacheRecords, prometheus.GaugeValue, g.CacheRecords, uid)
		ch <- prometheus.MustNewConstMetric(gaugeCacheBytes, prometheus.GaugeValue, g.CacheBytes, uid)
	}
}

// Package cbcsim is a faithful, deterministic stand-in for the Carbon Black Cloud Audit Log API
// (docs/simulator.md): search, per-key queues, export jobs, the legacy queue, rate limiting and
// injectable faults, plus an admin API under /_sim/ for tests.
package cbcsim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Permissions an API key can hold (READ on each).
const (
	PermAudits = "org.audits"
	PermJobs   = "jobs.status"
)

// Key is an API key the simulator accepts.
type Key struct {
	ID          string   `json:"id"`
	Secret      string   `json:"secret"`
	Permissions []string `json:"permissions"`
}

// Config sets up a simulator. Zero values take the defaults documented on each field.
type Config struct {
	OrgKey       string        // default "ABCD1234"
	Keys         []Key         // default DefaultKeys()
	Apps         []App         // OAuth apps; default DefaultApps()
	APITokens    []APIToken    // personal API tokens; default DefaultAPITokens()
	TokenTTL     time.Duration // lifetime of the access tokens Cloud Services issues; default 30 minutes
	Seed         uint64        // generator seed
	Span         time.Duration // history before Now; default 7 days
	EventsPerDay int           // history density; default 2000; negative means no history
	Records      int           // when positive, exactly this many history events over Span (EventsPerDay is ignored)
	Now          func() time.Time
	LiveRate     float64       // new events a minute after start; 0 means none
	Latency      time.Duration // added to every CBC request, to stand for a network
	JobDuration  time.Duration // from CREATED to COMPLETED; 0 completes exports at once
	JobTTL       time.Duration // how long export jobs are kept; default 30 days
	RateLimit    int           // requests per RateWindow per source IP; 0 means unlimited
	RateWindow   time.Duration // default 5 minutes
	QueueBatch   int           // records one queue read returns at most; default 2500
	QueueHistory time.Duration // what a key's queue holds at start; default 3 days
	DefaultRows  int           // rows when a search gives none; default 20
	Host         string        // the console URL written into request_url values; default https://defense.conferdeploy.net
	SparseShare  float64       // share of generated events written without false booleans or an empty request_url; default 0.1, negative means none
	WholeSeconds float64       // share of generated events whose time has no fraction of a second; default 0.05, negative means none
	LateShare    float64       // share of events that search finds only LateBy after their create_time; default none
	LateBy       time.Duration // how late those events are indexed
	Traffic      string        // what the events are: TrafficOrg, or by default a mix with password-guessing bursts and days away

	// The real API's undocumented behaviours (cbc-api.md, "Unknown behaviours"); each alternative is a mode.
	DefaultSort      string        // order of a search that sends no sort: "DESC" (default) or "ASC"
	EndExclusive     bool          // create_time.end leaves out its own millisecond
	CapNumFound      bool          // num_found stops at 10000
	JobVisibleAfter  time.Duration // a new export job answers 404 until this has passed
	DownloadRedirect string        // when set, a download answers 302 to this base URL, served by FileHandler
	WrongOrgStatus   int           // the status of a request for another org: 404 (default) or 403
	QueueOrder       string        // "newest": a queue read takes the newest events and lists them newest first; otherwise the oldest, oldest first
	NumAvailable     string        // "after": a queue answer's num_available is the backlog the read left; otherwise the backlog before it
	RefuseEmptyRange bool          // a create_time criterion whose start and end are the same instant is refused with 400
	MaxRows          int           // the largest page a search serves; default 10000
	JobParams        string        // "echo": a job lists the export's parameters; otherwise null, as the SDK's fixture of an audit export job has them
	StrictAccept     bool          // a download answers 406 unless Accept takes the file's type (text/csv or application/json)
	CSPBasic         string        // how Cloud Services reads an OAuth app's credentials: "raw" in HTTP Basic (default), "urlencoded" in HTTP Basic, or "body"
	AbsentFalse      bool          // a record that leaves out flagged or verbose matches :false (default: matches neither, as a field that is not indexed)
	RefuseUnknown    bool          // a query naming a field the audit log does not have is refused with 400 (default: it matches nothing)
}

// DefaultKeys are the keys a simulator accepts unless told otherwise: one with every permission, one that may
// search but not read jobs, and one with no permission at all.
func DefaultKeys() []Key {
	return []Key{
		{ID: "GRAFANA001", Secret: "SIMULATORSECRET0GRAFANA01", Permissions: []string{PermAudits, PermJobs}},
		{ID: "AUDITONLY1", Secret: "SIMULATORSECRET0AUDITONLY", Permissions: []string{PermAudits}},
		{ID: "NOPERMS001", Secret: "SIMULATORSECRET00NOPERMS1", Permissions: nil},
	}
}

func (c Config) withDefaults() Config {
	if c.OrgKey == "" {
		c.OrgKey = "ABCD1234"
	}
	if c.Keys == nil {
		c.Keys = DefaultKeys()
	}
	if c.Apps == nil {
		c.Apps = DefaultApps()
	}
	if c.APITokens == nil {
		c.APITokens = DefaultAPITokens()
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 30 * time.Minute
	}
	if c.Span <= 0 {
		c.Span = 7 * 24 * time.Hour
	}
	if c.EventsPerDay == 0 {
		c.EventsPerDay = 2000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.JobTTL <= 0 {
		c.JobTTL = 30 * 24 * time.Hour
	}
	if c.RateWindow <= 0 {
		c.RateWindow = 5 * time.Minute
	}
	if c.QueueBatch <= 0 {
		c.QueueBatch = 2500
	}
	if c.QueueHistory <= 0 {
		c.QueueHistory = 3 * 24 * time.Hour
	}
	if c.DefaultRows <= 0 {
		c.DefaultRows = 20
	}
	if c.Host == "" {
		c.Host = "https://defense.conferdeploy.net"
	}
	c.SparseShare = shareOr(c.SparseShare, 0.1)
	c.WholeSeconds = shareOr(c.WholeSeconds, 0.05)
	c.DefaultSort = strings.ToUpper(c.DefaultSort)
	if c.DefaultSort != "ASC" {
		c.DefaultSort = "DESC"
	}
	if c.WrongOrgStatus != http.StatusForbidden {
		c.WrongOrgStatus = http.StatusNotFound
	}
	return c
}

// shareOr reads a share where 0 means the default and a negative value none.
func shareOr(share, fallback float64) float64 {
	switch {
	case share == 0:
		return fallback
	case share < 0:
		return 0
	}
	return share
}

type keyState struct {
	Key
	revoked  bool
	queue    []Event // arrival order
	dequeued []Event // every event a queue read removed, in order: what a drain must end up with
}

func (k *keyState) can(perm string) bool {
	for _, p := range k.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// Simulator holds an org's audit logs and serves the CBC API over them.
type Simulator struct {
	cfg Config

	mu      sync.Mutex
	gen     *generator
	records []entry // by create_time, oldest first
	keys    map[string]*keyState
	jobs    map[int64]*job
	nextJob int64
	faults  []*Fault
	files   map[string]*job // download tokens of redirected downloads
	tokens  map[string]accessToken
	legacy  uint64 // legacy notifications sent, for their event ids
	stats   map[string]int
	sent    map[string][]time.Time // requests per source IP, for the rate limit

	stop chan struct{}
	done sync.WaitGroup
}

// New makes a simulator with its generated history and starts the live trickle, if any. Call Close to stop it.
func New(cfg Config) *Simulator {
	cfg = cfg.withDefaults()
	s := &Simulator{
		cfg:     cfg,
		gen:     newGenerator(cfg.Seed, cfg),
		keys:    map[string]*keyState{},
		jobs:    map[int64]*job{},
		files:   map[string]*job{},
		tokens:  map[string]accessToken{},
		nextJob: 4805565,
		stats:   map[string]int{},
		sent:    map[string][]time.Time{},
		stop:    make(chan struct{}),
	}
	now := cfg.Now()
	var history []Event
	if cfg.Records > 0 {
		history = s.gen.exactHistory(now.Add(-cfg.Span), now, cfg.Records)
	} else {
		history = s.gen.history(now.Add(-cfg.Span), now, cfg.EventsPerDay)
	}
	sort.SliceStable(history, func(i, j int) bool { return history[i].CreateTime.Before(history[j].CreateTime) })
	s.records = make([]entry, len(history))
	for i, e := range history {
		s.records[i] = s.arrive(e)
	}
	queueFrom := now.Add(-cfg.QueueHistory)
	start := sort.Search(len(s.records), func(i int) bool { return !s.records[i].CreateTime.Before(queueFrom) })
	// Every credential reads its own queue: API keys by their ID, apps and API tokens by their subject.
	credentials := append([]Key(nil), cfg.Keys...)
	for _, app := range cfg.Apps {
		credentials = append(credentials, Key{ID: "app:" + app.ClientID, Permissions: app.Permissions})
	}
	for _, t := range cfg.APITokens {
		if len(t.Token) >= 8 {
			credentials = append(credentials, Key{ID: "token:" + t.Token[len(t.Token)-8:], Permissions: t.Permissions})
		}
	}
	for _, k := range credentials {
		queue := make([]Event, 0, len(s.records)-start)
		for _, e := range s.records[start:] {
			queue = append(queue, e.Event)
		}
		s.keys[k.ID] = &keyState{Key: k, queue: queue}
	}
	if cfg.LiveRate > 0 {
		s.done.Add(1)
		go s.trickle(time.Duration(float64(time.Minute) / cfg.LiveRate))
	}
	return s
}

// arrive stores an event, indexed late when it falls in the late share: CBC's ingestion may make an event
// searchable some time after its create_time. Which events are late follows from their fields, so a run is
// reproducible.
func (s *Simulator) arrive(e Event) entry {
	rec := stored(e, s.cfg.OrgKey)
	if s.cfg.LateShare > 0 && s.cfg.LateBy > 0 {
		h := fnv.New64a()
		h.Write(fmt.Appendf(nil, "%d %s %s %s", rec.CreateTime.UnixNano(), rec.Actor, rec.ActorIP, rec.Description))
		if float64(h.Sum64()%1_000_000) < s.cfg.LateShare*1_000_000 {
			rec.indexed = rec.CreateTime.Add(s.cfg.LateBy)
		}
	}
	return rec
}

// Close stops the live trickle.
func (s *Simulator) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.done.Wait()
}

func (s *Simulator) trickle(every time.Duration) {
	defer s.done.Done()
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			s.mu.Lock()
			rec := s.gen.eventAt(s.cfg.Now())
			s.mu.Unlock()
			s.Inject(rec)
		}
	}
}

// Inject adds events as if they had just happened: they appear in search and in every key's queue.
func (s *Simulator) Inject(events ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		rec := s.arrive(e)
		i := sort.Search(len(s.records), func(i int) bool { return s.records[i].CreateTime.After(rec.CreateTime) })
		s.records = slices.Insert(s.records, i, rec)
		for _, k := range s.keys {
			k.queue = append(k.queue, rec.Event)
		}
	}
}

// Revoke makes a key's requests fail with 401, as a key deleted in the console would.
func (s *Simulator) Revoke(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		k.revoked = true
	}
}

// Records returns every record the simulator holds, oldest first: the ground truth tests compare against.
func (s *Simulator) Records() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.records))
	for i, e := range s.records {
		out[i] = e.Event
	}
	return out
}

// QueueBacklog is how many records wait in a key's queue.
func (s *Simulator) QueueBacklog(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		return len(k.queue)
	}
	return 0
}

// Requests is how many requests reached an endpoint ("search", "queue", "export", "legacy", "jobs", "job",
// "progress", "download"), or all of them for "".
func (s *Simulator) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if endpoint != "" {
		return s.stats[endpoint]
	}
	total := 0
	for _, n := range s.stats {
		total += n
	}
	return total
}

// Dequeued is every event the key's queue reads removed so far, whether or not the reader got the answer.
func (s *Simulator) Dequeued(id string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		return append([]Event(nil), k.dequeued...)
	}
	return nil
}

func (s *Simulator) count(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats[endpoint]++
}

// OrgKey is the org the simulator serves.
func (s *Simulator) OrgKey() string { return s.cfg.OrgKey }

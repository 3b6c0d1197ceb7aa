// Package cluster is the optional shared backend of several Grafana replicas, on Redis (docs/replicas.md):
// a lease that lets one replica drain a data source's queue, a stream of what it drained that
// every replica reads, and one request budget. Without Redis configured none of it exists and each Grafana works
// alone, as a single Grafana always does.
package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is where the shared state lives.
type Config struct {
	Addr      string // host:port; empty turns the shared backend off
	Password  string
	TLS       bool
	KeyPrefix string // default "cbcauditlogs"
}

// Enabled reports whether a Redis is configured.
func (c Config) Enabled() bool { return c.Addr != "" }

// Environment variables Grafana sets for the plugin from grafana.ini's [plugin.seed-cbcauditlogs-datasource]
// section (each key upper-cased after GF_PLUGIN_).
const (
	EnvAddr      = "GF_PLUGIN_REDIS_ADDRESS"
	EnvPassword  = "GF_PLUGIN_REDIS_PASSWORD" // #nosec G101 -- the variable's name, not a password
	EnvTLS       = "GF_PLUGIN_REDIS_TLS"
	EnvKeyPrefix = "GF_PLUGIN_REDIS_KEY_PREFIX"
)

// FromEnv reads the installation's configuration.
func FromEnv(getenv func(string) string) Config {
	tlsOn, _ := strconv.ParseBool(strings.TrimSpace(getenv(EnvTLS)))
	return Config{
		Addr:      strings.TrimSpace(getenv(EnvAddr)),
		Password:  getenv(EnvPassword),
		TLS:       tlsOn,
		KeyPrefix: strings.TrimSpace(getenv(EnvKeyPrefix)),
	}
}

// Resolve picks the configuration a data source uses: the installation's (grafana.ini) when it sets an
// address, since the administrator of the whole Grafana decides where its replicas share state; the data
// source's own settings otherwise.
func Resolve(installation, datasource Config) Config {
	if installation.Enabled() {
		return installation
	}
	return datasource
}

func init() {
	// go-redis writes its connection errors to stderr on its own; the callers here report them in the plugin's
	// log, once and in context.
	redis.SetLogger(silent{})
}

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// opTimeout bounds every Redis call: an unreachable Redis costs a query at most this, never its whole deadline.
const opTimeout = 2 * time.Second

// Shared is one data source's view of Redis: its keys live under the prefix, the data source's uid and a digest
// of what identifies its queue (URL, org and credential), so a settings change starts on fresh keys.
type Shared struct {
	rdb  *redis.Client
	base string
	// downUntil is when calls on a query's path (the budget, the cache) try Redis again after it failed: until
	// then they fail at once, so that an unreachable Redis does not slow every request by a timeout.
	downUntil atomic.Int64
}

// errDown is the answer of a call made while Redis is known to be unreachable.
var errDown = errors.New("Redis was unreachable moments ago")

// retryAfterDown is how long calls on a query's path skip Redis after it failed.
const retryAfterDown = 5 * time.Second

// usable fails at once while Redis is known to be down.
func (s *Shared) usable() error {
	if time.Now().UnixNano() < s.downUntil.Load() {
		return errDown
	}
	return nil
}

// note remembers a failure to reach Redis (not an absent key, nor a caller that gave up) and returns err.
func (s *Shared) note(err error) error {
	if err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled) {
		s.downUntil.Store(time.Now().Add(retryAfterDown).UnixNano())
	}
	return err
}

// Open connects lazily: nothing is sent until the first call.
func Open(cfg Config, uid, queueIdentity string) *Shared {
	opts := &redis.Options{
		Addr:         cfg.Addr,
		Password:     cfg.Password,
		DialTimeout:  opTimeout,
		ReadTimeout:  opTimeout,
		WriteTimeout: opTimeout,
		MaxRetries:   1,
		PoolSize:     8,
	}
	if cfg.TLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	prefix := cfg.KeyPrefix
	if prefix == "" {
		prefix = "cbcauditlogs"
	}
	sum := sha256.Sum256([]byte(queueIdentity))
	return &Shared{rdb: redis.NewClient(opts), base: prefix + ":" + uid + ":" + hex.EncodeToString(sum[:6])}
}

func (s *Shared) key(name string) string { return s.base + ":" + name }

// Ping reports whether Redis answers.
func (s *Shared) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return s.rdb.Ping(ctx).Err()
}

// Close releases the connections.
func (s *Shared) Close() error { return s.rdb.Close() }

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, opTimeout)
}

package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease is the right to drain a data source's queue: at most one replica holds it. It expires unless renewed,
// so a replica that dies gives it up within its time to live.
type Lease struct {
	s     *Shared
	key   string
	token string
	ttl   time.Duration
}

// Lease names this replica's claim; holder describes the replica (host and process) in the token, for the
// status page.
func (s *Shared) Lease(ttl time.Duration, holder string) *Lease {
	var random [8]byte
	_, _ = rand.Read(random[:])
	return &Lease{s: s, key: s.key("lease"), token: holder + "/" + hex.EncodeToString(random[:]), ttl: ttl}
}

// TTL is how long the lease outlives its last renewal.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Acquire takes the lease if nobody holds it.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return l.s.rdb.SetNX(ctx, l.key, l.token, l.ttl).Result()
}

// renewScript extends the lease only for its holder: a replica that lost it (it expired while the replica was
// stalled) must not take it back from the one that holds it now.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// Renew extends the lease; false means this replica no longer holds it and must stop draining at once.
func (l *Lease) Renew(ctx context.Context) (bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	n, err := renewScript.Run(ctx, l.s.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
	return n == 1, err
}

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Release gives the lease up at once, for a replica that stops: another takes over without waiting for the TTL.
func (l *Lease) Release(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return releaseScript.Run(ctx, l.s.rdb, []string{l.key}, l.token).Err()
}

// Holder is the token of whoever holds the lease, "" when nobody does.
func (s *Shared) Holder(ctx context.Context) (string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.key("lease")).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// Token is this claim's token.
func (l *Lease) Token() string { return l.token }

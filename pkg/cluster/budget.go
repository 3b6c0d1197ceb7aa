package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// Budget is a data source's request budget shared by every replica: at most Limit requests in any Window, as
// CBC counts them per source IP, and a hold every replica honours once one of them is answered 429. Redis's
// clock decides, so replicas whose clocks differ still agree.
type Budget struct {
	s      *Shared
	limit  int
	window time.Duration
}

// Budget returns the shared budget of limit requests per window (0: unlimited, only the hold applies).
func (s *Shared) Budget(limit int, window time.Duration) *Budget {
	return &Budget{s: s, limit: limit, window: window}
}

var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > now then return {hold - now, 1} end
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local limit = tonumber(ARGV[2])
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {math.max(tonumber(oldest[2]) + window - now, 1), 0}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {0, 0}`)

// Reserve records a request and returns 0 when it may be sent now; otherwise how long to wait, and whether a
// 429 holds every replica (rather than the budget being spent).
func (b *Budget) Reserve(ctx context.Context) (time.Duration, bool, error) {
	if err := b.s.usable(); err != nil {
		return 0, false, err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	var id [8]byte
	_, _ = rand.Read(id[:])
	res, err := reserveScript.Run(ctx, b.s.rdb, []string{b.s.key("sent"), b.s.key("hold")},
		b.window.Milliseconds(), b.limit, hex.EncodeToString(id[:])).Int64Slice()
	if err != nil {
		return 0, false, b.s.note(err)
	}
	return time.Duration(res[0]) * time.Millisecond, res[1] == 1, nil
}

var holdScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilMs, 'PX', ARGV[1])
end
return 0`)

// Hold makes every replica wait d before its next request: CBC answered one of them 429 with that Retry-After.
func (b *Budget) Hold(ctx context.Context, d time.Duration) error {
	if err := b.s.usable(); err != nil {
		return err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	return b.s.note(holdScript.Run(ctx, b.s.rdb, []string{b.s.key("hold")}, max(d.Milliseconds(), 1)).Err())
}

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// The stream: what the lease holder drained, in the order it drained it, for every replica to read.

// StreamLength bounds the stream (approximately, as XADD MAXLEN ~ trims): a replica that falls further behind
// reads what is left and the rest from its own backfill.
const StreamLength = 100_000

// idHorizon is how long the derived ids of appended events are remembered: CBC's queue holds three days.
const idHorizon = 72 * time.Hour

// appendScript appends each event whose member (derived id and occurrence) is not remembered yet, remembers
// it, keeps the newest create_time appended, and forgets members appended longer ago than the horizon. Atomic, so two
// replicas that both believe they hold the lease (one stalled past its TTL) still append an event once.
var appendScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = 0
local newest = tonumber(redis.call('GET', KEYS[3]) or '0')
for i = 3, #ARGV, 3 do
  local at = tonumber(ARGV[i+1])
  if redis.call('ZADD', KEYS[2], 'NX', now, ARGV[i]) == 1 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[i], 'r', ARGV[i+2])
    added = added + 1
    if at > newest then newest = at end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
if newest > 0 then redis.call('SET', KEYS[3], newest) end
return added`)

// Append adds the events to the stream, each once however often it is appended (a retried append, or a new
// lease holder's backfill that finds events already there). It returns how many were new.
func (s *Shared) Append(ctx context.Context, records []cbc.Record) (int, error) {
	if len(records) == 0 {
		return 0, nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	args := []any{StreamLength, idHorizon.Milliseconds()}
	members := membersOf(records)
	for i, r := range records {
		payload, err := json.Marshal(r)
		if err != nil {
			return 0, err
		}
		args = append(args, members[i], r.CreateTime.UnixMilli(), payload)
	}
	return appendScript.Run(ctx, s.rdb, []string{s.key("stream"), s.key("ids"), s.key("newest")}, args...).Int()
}

// membersOf names each event by its derived id and its occurrence among the records with that id, so that two
// identical events of one batch are both kept.
func membersOf(records []cbc.Record) []string {
	seen := map[string]int{}
	out := make([]string, len(records))
	for i, r := range records {
		id := r.ID()
		seen[id]++
		out[i] = id + "#" + strconv.Itoa(seen[id])
	}
	return out
}

// Newest is the create_time of the newest event ever appended; ok is false when the stream is new (or Redis
// lost it).
func (s *Shared) Newest(ctx context.Context) (time.Time, bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	ms, err := s.rdb.Get(ctx, s.key("newest")).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(ms).UTC(), true, nil
}

// Entry is one event of the stream.
type Entry struct {
	ID     string // the stream's own id, to read on from
	Member string
	Record cbc.Record
}

// Read returns the entries after the one with id after ("0" for the start), waiting up to block for one to
// arrive. It returns no entry and no error when none arrived.
func (s *Shared) Read(ctx context.Context, after string, block time.Duration, count int64) ([]Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, block+opTimeout)
	defer cancel()
	streams, err := s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s.key("stream"), after}, Count: count, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, st := range streams {
		for _, m := range st.Messages {
			e := Entry{ID: m.ID}
			e.Member, _ = m.Values["m"].(string)
			raw, _ := m.Values["r"].(string)
			if err := json.Unmarshal([]byte(raw), &e.Record); err != nil {
				return out, fmt.Errorf("stream entry %s is not an event: %w", m.ID, err)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

package cbc

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// BudgetWindow is the window CBC counts requests over.
const BudgetWindow = 5 * time.Minute

// limiter spends a client's request budget (at most n requests in any BudgetWindow) and holds every request
// while CBC has told us to back off (a 429's Retry-After). All work of one data source shares one limiter.
type limiter struct {
	mu           sync.Mutex
	now          func() time.Time
	budget       int
	window       time.Duration
	sent         []time.Time // times of the requests in the current window, oldest first
	blockedUntil time.Time
}

func newLimiter(budget int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{budget: budget, window: window, now: now}
}

// wait blocks until a request may be sent and records it, or fails at once when the caller's deadline would
// pass first: waiting for a slot that arrives after the deadline only delays the error.
func (l *limiter) wait(ctx context.Context) error {
	for {
		delay, reason := l.reserve()
		if delay <= 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && l.now().Add(delay).After(deadline) {
			return &Error{Kind: KindRateLimited, RetryAfter: delay, Message: fmt.Sprintf("%s: the next request may be sent in %s, after this query's deadline", reason, delay.Round(time.Second))}
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// reserve records a request and returns 0 if one may be sent now, else how long to wait and why.
func (l *limiter) reserve() (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.blockedUntil) {
		return l.blockedUntil.Sub(now), "Carbon Black Cloud rate limit (429)"
	}
	cutoff := now.Add(-l.window)
	drop := 0
	for drop < len(l.sent) && !l.sent[drop].After(cutoff) {
		drop++
	}
	l.sent = l.sent[drop:]
	if l.budget > 0 && len(l.sent) >= l.budget {
		return l.sent[0].Add(l.window).Sub(now), fmt.Sprintf("request budget of %d per %s spent", l.budget, l.window)
	}
	l.sent = append(l.sent, now)
	return 0, ""
}

// block holds every request until d has passed.
func (l *limiter) block(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
}

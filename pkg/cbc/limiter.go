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
	shared       SharedBudget // nil without Grafana replicas sharing one budget
	mu           sync.Mutex
	now          func() time.Time
	budget       int
	window       time.Duration
	sent         []time.Time // times of the requests in the current window, oldest first
	blockedUntil time.Time
	onWait       func(delay time.Duration, held bool) // told of each request that has to wait
}

func newLimiter(budget int, window time.Duration, now func() time.Time, onWait func(time.Duration, bool)) *limiter {
	return &limiter{budget: budget, window: window, now: now, onWait: onWait}
}

// wait blocks until a request may be sent and records it, or fails at once when the caller's deadline would
// pass first: waiting for a slot that arrives after the deadline only delays the error.
func (l *limiter) wait(ctx context.Context) error {
	for {
		delay, held := l.reserveShared(ctx)
		if delay <= 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && l.now().Add(delay).After(deadline) {
			return l.refusal(delay, held)
		}
		if l.onWait != nil {
			l.onWait(delay, held)
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

// refusal is the error of a request that could not be sent before its deadline: a downstream 429 while CBC
// holds us back, and the plugin's own budget (set by the admin) otherwise. Both say when to retry.
func (l *limiter) refusal(delay time.Duration, held bool) *Error {
	when := l.now().Add(delay).UTC().Format("15:04:05 UTC")
	if held {
		return &Error{Kind: KindRateLimited, Status: 429, RetryAfter: delay, Message: fmt.Sprintf(
			"rate limited by Carbon Black Cloud (429): no request may be sent for %s, past this query's deadline; retry after %s", delay.Round(time.Second), when)}
	}
	return &Error{Kind: KindRateLimited, RetryAfter: delay, Message: fmt.Sprintf(
		"this data source's request budget of %d per %s is spent: the next request may be sent in %s, past this query's deadline; retry after %s, or raise the budget in the data source settings",
		l.budget, l.window, delay.Round(time.Second), when)}
}

// SharedBudget is a request budget several Grafana replicas share: Reserve records a request and returns 0
// when it may be sent now, else how long to wait and whether a 429 holds everyone; Hold makes every replica
// wait d.
type SharedBudget interface {
	Reserve(ctx context.Context) (wait time.Duration, held bool, err error)
	Hold(ctx context.Context, d time.Duration) error
}

// reserveShared reserves from the shared budget, and from this client's own while the shared one cannot be
// reached: requests go on, counted locally, rather than stop. A 429 this client saw holds it either way.
func (l *limiter) reserveShared(ctx context.Context) (time.Duration, bool) {
	if l.shared == nil {
		return l.reserve()
	}
	l.mu.Lock()
	local := l.blockedUntil.Sub(l.now())
	l.mu.Unlock()
	if local > 0 {
		return local, true
	}
	if delay, held, err := l.shared.Reserve(ctx); err == nil {
		return delay, held
	}
	return l.reserve()
}

// reserve records a request and returns 0 if one may be sent now, else how long to wait and whether CBC
// holds us back (a 429) rather than our own budget.
func (l *limiter) reserve() (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.blockedUntil) {
		return l.blockedUntil.Sub(now), true
	}
	cutoff := now.Add(-l.window)
	drop := 0
	for drop < len(l.sent) && !l.sent[drop].After(cutoff) {
		drop++
	}
	l.sent = l.sent[drop:]
	if l.budget > 0 && len(l.sent) >= l.budget {
		return l.sent[0].Add(l.window).Sub(now), false
	}
	l.sent = append(l.sent, now)
	return 0, false
}

// block holds every request until d has passed, on every replica when the budget is shared.
func (l *limiter) block(d time.Duration) {
	if l.shared != nil {
		_ = l.shared.Hold(context.Background(), d) // unreachable: this client's own hold below still applies
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
}

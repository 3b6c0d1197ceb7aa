package cbc

import (
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Kind tells what went wrong in a call to CBC.
type Kind int

// The kinds of failure.
const (
	KindQuerySyntax  Kind = iota + 1 // 400 query_malformed_syntax: the user's query does not parse
	KindBadRequest                   // other 400s: a criterion or sort CBC refuses
	KindUnauthorized                 // 401: API ID or secret wrong or revoked
	KindForbidden                    // 403: the key lacks a permission
	KindNotFound                     // 404: wrong org key, unknown job
	KindConflict                     // 409: e.g. a download before the export completed
	KindRateLimited                  // 429, or our own request budget is spent
	KindServer                       // 5xx
	KindUnreachable                  // DNS, TCP or TLS failure, or a timeout
	KindMalformed                    // a response that is not the JSON CBC documents
)

// Error is a failed call to CBC. Its message is safe to show: it never holds the API secret.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status, 0 when no response arrived
	Message    string        // what to tell the user
	RetryAfter time.Duration // for KindRateLimited
	// MaybeActed is set when the request may have reached CBC and been acted on although no readable answer
	// came back: a timeout, a connection fault, a 5xx or a garbled body. A queue read that fails this way may
	// have removed events.
	MaybeActed bool
	// NamesOrg is set on a 404 whose message names the org key: the org is unknown, not the route.
	NamesOrg bool
	Err      error // the cause, when there is one
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// Source says whose fault the error is, for Grafana's error source: CBC's or the user's (downstream), or the
// plugin's.
func (e *Error) Source() backend.ErrorSource {
	if e.Kind == KindRateLimited && e.Status == 0 {
		return backend.ErrorSourcePlugin // our own request budget, set by the admin
	}
	return backend.ErrorSourceDownstream
}

// KindOf returns the Kind of err, or 0 when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func statusError(ep endpoint, status int, serverMessage string, retryAfter time.Duration) *Error {
	e := &Error{Status: status, RetryAfter: retryAfter, MaybeActed: status >= 500}
	suffix := ""
	if serverMessage != "" {
		suffix = ": " + serverMessage
	}
	switch {
	case status == 400:
		e.Kind = KindBadRequest
		e.Message = "Carbon Black Cloud rejected the request" + suffix
	case status == 401:
		e.Kind = KindUnauthorized
		e.Message = "API key invalid: Carbon Black Cloud did not accept the API ID and secret (401); check them, or whether the key was revoked"
	case status == 403:
		e.Kind = KindForbidden
		e.Message = fmt.Sprintf("permission denied (403): the API key needs %s; add it to the key's access level in the Carbon Black Cloud console", ep.permission)
	case status == 404:
		e.Kind = KindNotFound
		e.Message = "not found (404)" + suffix
	case status == 409:
		e.Kind = KindConflict
		e.Message = "conflict (409)" + suffix
	case status == 429:
		e.Kind = KindRateLimited
		e.Message = fmt.Sprintf("rate limited by Carbon Black Cloud (429): retry after %s", retryAfter.Round(time.Second))
	case status >= 500:
		e.Kind = KindServer
		e.Message = fmt.Sprintf("Carbon Black Cloud server error (%d)%s", status, suffix)
	default:
		e.Kind = KindBadRequest
		e.Message = fmt.Sprintf("unexpected status %d from Carbon Black Cloud%s", status, suffix)
	}
	return e
}

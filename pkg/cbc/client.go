package cbc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Endpoint names, used in error messages and to name the permission a 403 lacks.
const (
	endpointSearch = "search"
	endpointQueue  = "queue"
	endpointExport = "export"
	endpointLegacy = "legacy queue"
	endpointJobs   = "jobs"
)

// Config is what a client needs to reach one org.
type Config struct {
	BaseURL       string        // e.g. https://defense.conferdeploy.net, no trailing slash
	OrgKey        string        // e.g. ABCD1234
	APIID         string        // the API key's ID
	APISecret     string        // the API key's secret; never logged, never in an error
	Timeout       time.Duration // per request, headers and body; downloads use the caller's context only
	Concurrency   int           // requests in flight at once for one search
	RequestBudget int           // requests per BudgetWindow; 0 means no budget
	Transport     http.RoundTripper
}

// Client calls CBC for one data source. It is safe for concurrent use; all calls share one request budget.
type Client struct {
	cfg      Config
	http     *http.Client
	download *http.Client
	limiter  *limiter
	// backoff returns how long to wait before retry n (1-based) of a 5xx; replaced in tests.
	backoff func(n int) time.Duration
}

// maxAttempts bounds how often one call is sent: the first try plus retries after a 429 or a 502/503/504.
const maxAttempts = 4

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	transport := cfg.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Concurrency * 2
		t.ResponseHeaderTimeout = cfg.Timeout
		transport = t
	}
	return &Client{
		cfg:      cfg,
		http:     &http.Client{Transport: transport, Timeout: cfg.Timeout},
		download: &http.Client{Transport: transport},
		limiter:  newLimiter(cfg.RequestBudget, BudgetWindow, time.Now),
		backoff:  jitteredBackoff,
	}
}

func jitteredBackoff(n int) time.Duration {
	base := 200 * time.Millisecond << (n - 1)
	if base > 2*time.Second {
		base = 2 * time.Second
	}
	return base/2 + rand.N(base/2+1)
}

func (c *Client) orgPath(service, rest string) string {
	return fmt.Sprintf("/%s/orgs/%s/%s", service, url.PathEscape(c.cfg.OrgKey), rest)
}

// send sends one call, waiting for the request budget and retrying 429s and 502/503/504 within the context's
// deadline. On success the caller owns the response body.
func (c *Client) send(ctx context.Context, hc *http.Client, endpoint, method, path string, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode %s request: %w", endpoint, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.limiter.wait(ctx); err != nil {
			return nil, c.contextError(ctx, endpoint, err)
		}
		resp, err := c.roundTrip(ctx, hc, method, path, payload)
		if err != nil {
			return nil, c.contextError(ctx, endpoint, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := c.readError(endpoint, resp)
		retry := false
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			c.limiter.block(apiErr.RetryAfter)
			retry = true
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = sleep(ctx, c.backoff(attempt)) == nil
		}
		if !retry || attempt >= maxAttempts {
			return nil, apiErr
		}
	}
}

func (c *Client) roundTrip(ctx context.Context, hc *http.Client, method, path string, payload []byte) (*http.Response, error) {
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, reader)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Token", c.cfg.APISecret+"/"+c.cfg.APIID)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return hc.Do(req)
}

// contextError turns a failure to get a response into an *Error, keeping cancellation recognisable.
func (c *Client) contextError(ctx context.Context, endpoint string, err error) error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	var netErr interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("Carbon Black Cloud did not answer the %s request in time; check the URL, or raise the timeout", endpoint), Err: err}
	}
	return &Error{Kind: KindUnreachable, Message: c.redact(fmt.Sprintf("cannot reach Carbon Black Cloud at %s: %v", c.cfg.BaseURL, unwrapURLError(err))), Err: err}
}

func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// errorBody covers both error shapes CBC uses: {reason, message} for queries and {error_code, message}.
type errorBody struct {
	Reason    string `json:"reason"`
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

const maxErrorBody = 64 << 10

func (c *Client) readError(endpoint string, resp *http.Response) *Error {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	_ = json.Unmarshal(raw, &body)
	message := body.Message
	if message == "" && body.ErrorCode != "" {
		message = body.ErrorCode
	}
	apiErr := statusError(endpoint, resp.StatusCode, strings.TrimSpace(message), retryAfter(resp.Header.Get("Retry-After")))
	if resp.StatusCode == http.StatusBadRequest && body.Reason == "query_malformed_syntax" {
		apiErr.Kind = KindQuerySyntax
		apiErr.Message = "query syntax error: " + message
	}
	apiErr.Message = c.redact(apiErr.Message)
	return apiErr
}

// redact removes the API secret from text that may have echoed a request.
func (c *Client) redact(s string) string {
	if c.cfg.APISecret == "" {
		return s
	}
	return strings.ReplaceAll(s, c.cfg.APISecret, "[redacted]")
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; CBC sends seconds.
func retryAfter(h string) time.Duration {
	const fallback = 5 * time.Second
	if h == "" {
		return fallback
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return fallback
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// getJSON sends a call and decodes its body with decode. A search or job body cut short is fetched again (it is a
// transient fault and decode keeps nothing of a failed attempt); a queue read or an export start is not, since
// CBC already acted on it. A body that is not JSON is an error.
func (c *Client) getJSON(ctx context.Context, endpoint, method, path string, body any, decode func(io.Reader) error) error {
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, c.http, endpoint, method, path, body)
		if err != nil {
			return err
		}
		err = decode(resp.Body)
		resp.Body.Close()
		if err == nil {
			return nil
		}
		var netErr interface{ Timeout() bool }
		if ctx.Err() != nil || (errors.As(err, &netErr) && netErr.Timeout()) {
			return c.contextError(ctx, endpoint, err)
		}
		truncated := errors.Is(err, io.ErrUnexpectedEOF)
		repeatable := endpoint == endpointSearch || endpoint == endpointJobs
		if truncated && repeatable && attempt < maxAttempts {
			continue
		}
		what := "is not valid JSON"
		if truncated {
			what = "was cut short"
		}
		return &Error{Kind: KindMalformed, Message: fmt.Sprintf("the %s response from Carbon Black Cloud %s (%v)", endpoint, what, err), Err: err}
	}
}

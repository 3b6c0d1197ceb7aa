package cbc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// endpoint describes one kind of CBC call: its name in messages, the permission a 403 lacks, and whether it
// may be sent again after a fault. Queue reads and export starts may not: CBC acts on them (it removes what it
// sends, it creates a job), so a second send loses events or makes a second job.
type endpoint struct {
	name       string
	permission string
	idempotent bool
}

var (
	endpointSearch = endpoint{name: "search", permission: "READ on org.audits", idempotent: true}
	endpointQueue  = endpoint{name: "queue", permission: "READ on org.audits"}
	endpointLegacy = endpoint{name: "legacy queue", permission: "READ on org.audits"}
	endpointExport = endpoint{name: "export", permission: "READ on org.audits"}
	endpointJobs   = endpoint{name: "jobs", permission: "READ on jobs.status", idempotent: true}
)

// Config is what a client needs to reach one org.
type Config struct {
	BaseURL       string        // e.g. https://defense.conferdeploy.net, no trailing slash
	OrgKey        string        // e.g. ABCD1234
	APIID         string        // the API key's ID
	APISecret     string        // the API key's secret; never logged, never in an error
	Bearer        *Bearer       // when set, calls carry its access tokens instead of the API key
	Timeout       time.Duration // per request, headers and body; downloads use the caller's context only
	Concurrency   int           // requests in flight at once for the whole data source (downloads aside)
	RequestBudget int           // requests per BudgetWindow; 0 means no budget
	UserAgent     string        // names this plugin to CBC, e.g. Grafana-CBC-AuditLogs/1.2.0 Grafana/13.1.0
	Transport     http.RoundTripper
	Logger        log.Logger // default: the SDK's logger; requests at debug level, never their headers
	Observer      Observer   // sees every request, for metrics; may be nil
	// SharedBudget, when set, is the request budget of every Grafana replica of this data source together
	// (pkg/cluster); RequestBudget then applies only while it cannot be reached.
	SharedBudget SharedBudget
}

// Observer is told of each request sent to CBC and of each wait for the request budget.
type Observer interface {
	Request(endpoint string, status int, took time.Duration)
	BudgetWait()
}

// Client calls CBC for one data source. It is safe for concurrent use; all calls share one request budget and
// one bound on requests in flight.
type Client struct {
	cfg Config
	// http sends calls that may be repeated; once sends the others over a fresh connection each, so that the
	// transport never re-sends one on its own after a connection fault.
	http, once, download *http.Client
	idle                 []interface{ CloseIdleConnections() }
	limiter              *limiter
	slots                chan struct{}
	// backoff returns how long to wait before retry n (1-based); replaced in tests.
	backoff func(n int) time.Duration

	endMu        sync.Mutex
	endKnown     bool // whether endInclusive has been found out (search.go, endIncludesItsMillisecond)
	endInclusive bool

	rowsMu  sync.Mutex
	rowsCap int // the largest page CBC took when it refused a larger one; 0 until then (search.go, Page)

	exportsMu sync.Mutex
	exports   map[int64]bool // the export jobs this client started, which a lookup never claims again
}

// maxAttempts bounds how often one call is sent: the first try plus retries after a 429, a 502/503/504, or (for
// calls that may be repeated) a connection fault, a timeout or a garbled body.
const maxAttempts = 4

// maxBody bounds one response body read into memory; a 10000-record page is a few megabytes.
const maxBody = 64 << 20

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = log.DefaultLogger
	}
	c := &Client{
		cfg: cfg,
		limiter: newLimiter(cfg.RequestBudget, BudgetWindow, time.Now, func(delay time.Duration, held bool) {
			if cfg.Observer != nil {
				cfg.Observer.BudgetWait()
			}
			reason := "the data source's request budget is spent"
			if held {
				reason = "Carbon Black Cloud asked to wait (429)"
			}
			cfg.Logger.Warn("Waiting before the next request to Carbon Black Cloud", "reason", reason, "wait", delay.Round(time.Millisecond))
		}),
		slots:   make(chan struct{}, cfg.Concurrency),
		backoff: jitteredBackoff,
		exports: map[int64]bool{},
	}
	c.limiter.shared = cfg.SharedBudget

	pooled, single := cfg.Transport, cfg.Transport
	if pooled == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Concurrency * 2
		t.ResponseHeaderTimeout = cfg.Timeout
		s := t.Clone()
		s.DisableKeepAlives = true
		pooled, single = t, s
		c.idle = append(c.idle, t, s)
	}
	c.http = &http.Client{Transport: pooled, Timeout: cfg.Timeout, CheckRedirect: c.checkRedirect}
	c.once = &http.Client{Transport: single, Timeout: cfg.Timeout, CheckRedirect: c.checkRedirect}
	c.download = &http.Client{Transport: pooled, CheckRedirect: c.checkRedirect}
	return c
}

// SignIn says how the client signed in through Cloud Services, when it did and the way matters (an OAuth app's
// credentials); empty otherwise.
func (c *Client) SignIn() string {
	if c.cfg.Bearer == nil {
		return ""
	}
	return c.cfg.Bearer.SignIn()
}

// Close releases the client's idle connections; calls still under way finish.
func (c *Client) Close() {
	for _, t := range c.idle {
		t.CloseIdleConnections()
	}
}

// checkRedirect follows redirects (a download may be served by a storage host) but never takes the credentials
// along to another host, and never follows HTTPS down to plain HTTP.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if first.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing to follow a redirect from HTTPS to %s://%s", req.URL.Scheme, req.URL.Host)
	}
	if !strings.EqualFold(req.URL.Host, first.Host) {
		req.Header.Del("X-Auth-Token")
		req.Header.Del("Authorization")
	}
	return nil
}

func jitteredBackoff(n int) time.Duration {
	base := 200 * time.Millisecond << (n - 1)
	if base > 2*time.Second {
		base = 2 * time.Second
	}
	return base/2 + rand.N(base/2+1) // #nosec G404 -- jitter spreads retries; nothing depends on its being unpredictable
}

func (c *Client) orgPath(service, rest string) string {
	return fmt.Sprintf("/%s/orgs/%s/%s", service, url.PathEscape(c.cfg.OrgKey), rest)
}

// send sends one call, waiting for the request budget and a free slot, and retrying 429s (and, for calls that
// may be repeated, 502/503/504) within the context's deadline. On success the caller owns the response body and
// must close it, which frees the slot.
func (c *Client) send(ctx context.Context, hc *http.Client, ep endpoint, method, path string, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode %s request: %w", ep.name, err)
		}
	}
	if !ep.idempotent && hc == c.http {
		hc = c.once
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		began := time.Now()
		resp, token, err := c.attempt(ctx, hc, method, path, payload, hc == c.download)
		c.observe(ep, resp, err, time.Since(began))
		if err != nil {
			return nil, c.transportError(ctx, ep, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := c.readError(ep, resp)
		if resp.StatusCode == http.StatusUnauthorized && c.cfg.Bearer != nil {
			apiErr.Message = "Carbon Black Cloud refused the access token from Cloud Services (401): check that the OAuth app or API token has access to this org and its API"
		}
		retry := false
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			// An access token can expire or be revoked before its time: fetch a new one, once. CBC acted on nothing.
			if c.cfg.Bearer != nil && !refreshed {
				c.cfg.Bearer.invalidate(token)
				refreshed, retry = true, true
			}
		case http.StatusTooManyRequests:
			c.cfg.Logger.Warn("Rate limited by Carbon Black Cloud", "endpoint", ep.name, "retryAfter", apiErr.RetryAfter)
			c.limiter.block(apiErr.RetryAfter)
			retry = true
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = ep.idempotent && sleep(ctx, c.backoff(attempt)) == nil
		}
		if !retry || attempt >= maxAttempts {
			return nil, apiErr
		}
	}
}

// observe logs one request at debug level (never its headers) and tells the observer.
func (c *Client) observe(ep endpoint, resp *http.Response, err error, took time.Duration) {
	var early notSent
	if errors.As(err, &early) {
		return
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer.Request(ep.name, status, took)
	}
	if err != nil {
		c.cfg.Logger.Debug("Carbon Black Cloud request", "endpoint", ep.name, "status", status, "duration", took, "error", c.redact(err.Error()))
		return
	}
	c.cfg.Logger.Debug("Carbon Black Cloud request", "endpoint", ep.name, "status", status, "duration", took)
}

// notSent marks a failure before the request left: CBC cannot have acted on it.
type notSent struct{ error }

func (e notSent) Unwrap() error { return e.error }

// attempt sends one request once a budget slot and, unless it is a download, an in-flight slot are free. It
// returns the access token it sent, if any.
func (c *Client) attempt(ctx context.Context, hc *http.Client, method, path string, payload []byte, download bool) (*http.Response, string, error) {
	var token string
	if c.cfg.Bearer != nil {
		var err error
		if token, err = c.cfg.Bearer.token(ctx); err != nil {
			return nil, "", notSent{err}
		}
	}
	if err := c.limiter.wait(ctx); err != nil {
		return nil, "", notSent{err}
	}
	release := func() {}
	if !download {
		select {
		case c.slots <- struct{}{}:
			var once sync.Once
			release = func() { once.Do(func() { <-c.slots }) }
		case <-ctx.Done():
			return nil, "", notSent{ctx.Err()}
		}
	}
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, reader)
	if err != nil {
		release()
		return nil, "", notSent{err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set("X-Auth-Token", c.cfg.APISecret+"/"+c.cfg.APIID)
	}
	// A download is a CSV or JSON file: it accepts what the SDK accepts, anything.
	if download {
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		release()
		return nil, token, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, token, nil
}

// releasingBody frees the call's in-flight slot when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// transportError turns a failure to get a response into an *Error. Cancellation stays recognisable.
func (c *Client) transportError(ctx context.Context, ep endpoint, err error) error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return c.redactError(err)
	}
	var early notSent
	sent := !errors.As(err, &early)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		if sent {
			return &Error{Kind: KindUnreachable, MaybeActed: true, Message: fmt.Sprintf("the %s request was cancelled", ep.name), Err: err}
		}
		return ctx.Err()
	}
	var netErr interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return &Error{Kind: KindUnreachable, MaybeActed: sent, Message: fmt.Sprintf("Carbon Black Cloud did not answer the %s request in time; check the URL, or raise the timeout", ep.name), Err: err}
	}
	return &Error{Kind: KindUnreachable, MaybeActed: sent, Message: c.redact(fmt.Sprintf("cannot reach Carbon Black Cloud at %s: %v", c.cfg.BaseURL, unwrapURLError(err))), Err: err}
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

func (c *Client) readError(ep endpoint, resp *http.Response) *Error {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	_ = json.Unmarshal(raw, &body)
	message := body.Message
	if message == "" && body.ErrorCode != "" {
		message = body.ErrorCode
	}
	apiErr := statusError(ep, resp.StatusCode, strings.TrimSpace(message), retryAfter(resp.Header.Get("Retry-After")))
	if resp.StatusCode == http.StatusNotFound && c.cfg.OrgKey != "" && strings.Contains(strings.ToLower(message), strings.ToLower(c.cfg.OrgKey)) {
		apiErr.NamesOrg = true
	}
	if resp.StatusCode == http.StatusBadRequest && body.Reason == "query_malformed_syntax" {
		apiErr.Kind = KindQuerySyntax
		apiErr.Message = "query syntax error: " + message
	}
	apiErr.Message = c.redact(apiErr.Message)
	return apiErr
}

// minSecretFragment is the shortest piece of the secret that redaction removes: an upstream that echoes the
// token may cut it anywhere.
const minSecretFragment = 6

// redact removes every secret (the API secret, or the sign-in credential and its current access token), and
// any piece of one of minSecretFragment characters or more, from text that may have echoed a request.
func (c *Client) redact(s string) string {
	secrets := []string{c.cfg.APISecret}
	if c.cfg.Bearer != nil {
		secrets = append(secrets, c.cfg.Bearer.redactable()...)
	}
	return Redact(s, secrets...)
}

// Redact removes every secret, and any piece of one of six characters or more, from text.
func Redact(text string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			text = redactFragments(text, secret)
		}
	}
	return text
}

func redactFragments(s, secret string) string {
	if len(secret) < minSecretFragment {
		return strings.ReplaceAll(s, secret, "[redacted]")
	}
	var out strings.Builder
	for i := 0; i < len(s); {
		longest := 0
		for n := min(len(secret), len(s)-i); n >= minSecretFragment; n-- {
			if strings.Contains(secret, s[i:i+n]) {
				longest = n
				break
			}
		}
		if longest > 0 {
			out.WriteString("[redacted]")
			i += longest
			continue
		}
		out.WriteByte(s[i])
		i++
	}
	return out.String()
}

// redactError makes sure the message of an error leaving the client holds no part of the secret.
func (c *Client) redactError(err error) error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		apiErr.Message = c.redact(apiErr.Message)
	}
	return err
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

// errBodyTooLarge is a response body past maxBody.
var errBodyTooLarge = errors.New("response body too large")

// boundedBody fails a read past maxBody instead of letting one answer take the process's memory.
type boundedBody struct {
	r    io.Reader
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// fetchJSON sends a call and decodes its JSON body into a T, with getJSON's retries.
func fetchJSON[T any](ctx context.Context, c *Client, ep endpoint, method, path string, body any) (T, error) {
	var out T
	err := c.getJSON(ctx, ep, method, path, body, func(r io.Reader) error {
		var fresh T // nothing of a failed attempt is kept
		err := json.NewDecoder(r).Decode(&fresh)
		out = fresh
		return err
	})
	return out, err
}

// getJSON sends a call and decodes its body with decode, which must keep nothing of a failed attempt. A call
// that may be repeated is sent again after a connection fault, a timeout or a garbled or cut-short body, within
// the budget and the deadline; a call CBC acts on never is: its error says whether CBC may have acted.
func (c *Client) getJSON(ctx context.Context, ep endpoint, method, path string, body any, decode func(io.Reader) error) error {
	for attempt := 1; ; attempt++ {
		err := c.tryJSON(ctx, ep, method, path, body, decode)
		var apiErr *Error
		retryable := errors.As(err, &apiErr) && apiErr.MaybeActed && apiErr.Status == 0
		if err == nil || !ep.idempotent || !retryable || ctx.Err() != nil || attempt >= maxAttempts {
			return c.redactError(err)
		}
		if sleep(ctx, c.backoff(attempt)) != nil {
			return c.redactError(err)
		}
	}
}

func (c *Client) tryJSON(ctx context.Context, ep endpoint, method, path string, body any, decode func(io.Reader) error) (err error) {
	ctx, span := tracing.DefaultTracer().Start(ctx, "cbc."+strings.ReplaceAll(ep.name, " ", "_"), trace.WithAttributes(attribute.String("cbc.endpoint", ep.name)))
	defer func() {
		if err != nil {
			span.RecordError(errors.New(c.redact(err.Error())))
			span.SetStatus(codes.Error, "failed")
		}
		span.End()
	}()
	resp, err := c.send(ctx, c.http, ep, method, path, body)
	if err != nil {
		return err
	}
	span.SetAttributes(attribute.Int("http.status_code", resp.StatusCode))
	defer resp.Body.Close()
	err = decode(&boundedBody{r: resp.Body, left: maxBody})
	if err == nil {
		return nil
	}
	var netErr interface{ Timeout() bool }
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr):
		return c.transportError(ctx, ep, err)
	case errors.Is(err, errBodyTooLarge):
		return &Error{Kind: KindMalformed, MaybeActed: true, Message: fmt.Sprintf("the %s response from Carbon Black Cloud is larger than %d MiB; narrow the search", ep.name, maxBody>>20), Err: err}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return c.transportError(ctx, ep, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: KindMalformed, MaybeActed: true, Message: fmt.Sprintf("the %s response from Carbon Black Cloud was cut short", ep.name), Err: err}
	}
	return &Error{Kind: KindMalformed, MaybeActed: true, Message: fmt.Sprintf("the %s response from Carbon Black Cloud is not valid JSON (%s)", ep.name, c.redact(err.Error())), Err: err}
}

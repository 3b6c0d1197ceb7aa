package cbc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Bearer signs CBC calls with access tokens from VMware Cloud Services, for orgs whose logins it manages: an
// OAuth app (client credentials) or a personal API token. A token is kept until shortly before it expires, and
// fetched again at once when CBC refuses it.
type Bearer struct {
	host  string // the Cloud Services host, for messages
	fetch func(ctx context.Context) (*oauth2.Token, error)

	mu        sync.Mutex
	current   *oauth2.Token
	refreshAt time.Time
	secrets   []string // what redaction removes from messages: the credential and the current token
	// signIn is how an OAuth app's credentials travel, once one way has worked.
	signIn *ClientAuth
}

// ClientAuth is how an OAuth app's client ID and secret travel to Cloud Services. Nothing public says which
// Cloud Services decodes; the official SDK sends them raw in HTTP Basic, and RFC 6749 (§2.3.1) form-urlencodes
// them first, as golang.org/x/oauth2 does.
type ClientAuth int

// The ways of sending an OAuth app's credentials, in the order sign-in tries them.
const (
	BasicRaw        ClientAuth = iota // HTTP Basic with the ID and secret as they are, as the official SDK sends them
	BasicURLEncoded                   // HTTP Basic with each form-urlencoded first
	FormBody                          // client_id and client_secret in the form body
)

func (a ClientAuth) String() string {
	return [...]string{"HTTP Basic, sent as is", "HTTP Basic, form-urlencoded", "the form body"}[a]
}

// defaultTokenLifetime is how long a token kept when Cloud Services does not say: a 401 from CBC replaces it
// sooner.
const defaultTokenLifetime = 10 * time.Minute

// tokenClient calls Cloud Services; it never follows a redirect, so credentials stay with the host they are for.
func tokenClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// OAuthApp signs in as an OAuth app: POST {csp}/csp/gateway/am/api/auth/token with grant_type=client_credentials.
// The credentials go as the official SDK sends them; when Cloud Services answers invalid_client, form-urlencoded
// in HTTP Basic once, then in the form body. What worked is kept for the Bearer's life.
func OAuthApp(csp, clientID, clientSecret string, timeout time.Duration) *Bearer {
	endpoint := strings.TrimRight(csp, "/") + "/csp/gateway/am/api/auth/token"
	hc := tokenClient(timeout)
	b := &Bearer{host: hostOf(csp), secrets: []string{clientSecret}}
	const advice = "check the client ID and client secret of the OAuth app in the Cloud Services console"
	request := func(ctx context.Context, how ClientAuth) (*http.Request, error) {
		form := url.Values{"grant_type": {"client_credentials"}}
		if how == FormBody {
			form.Set("client_id", clientID)
			form.Set("client_secret", clientSecret)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		switch how {
		case BasicRaw:
			req.SetBasicAuth(clientID, clientSecret)
		case BasicURLEncoded:
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
		}
		return req, nil
	}
	b.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		ways := []ClientAuth{BasicRaw, BasicURLEncoded, FormBody}
		if b.signIn != nil {
			ways = []ClientAuth{*b.signIn}
		}
		var refusal *oauth2.RetrieveError
		for _, how := range ways {
			req, err := request(ctx, how)
			if err != nil {
				return nil, err
			}
			token, refused, err := b.exchange(hc, req)
			switch {
			case err != nil:
				return nil, err
			case refused == nil:
				b.signIn = &how
				return token, nil
			case !invalidClient(refused):
				return nil, b.refused("OAuth app sign-in", advice, refused)
			}
			refusal = refused
		}
		return nil, b.refused("OAuth app sign-in", advice, refusal)
	}
	return b
}

// invalidClient reports Cloud Services refusing the client's credentials, which another way of sending them
// may cure.
func invalidClient(refused *oauth2.RetrieveError) bool {
	return refused.Response.StatusCode == http.StatusUnauthorized || refused.ErrorCode == "invalid_client"
}

// APIToken signs in with a personal API token: POST {csp}/csp/gateway/am/api/auth/api-tokens/authorize with the
// form field api_token.
func APIToken(csp, apiToken string, timeout time.Duration) *Bearer {
	endpoint := strings.TrimRight(csp, "/") + "/csp/gateway/am/api/auth/api-tokens/authorize"
	hc := tokenClient(timeout)
	b := &Bearer{host: hostOf(csp), secrets: []string{apiToken}}
	const advice = "the API token may be revoked or expired: create a new one in the Cloud Services console (My Account > API Tokens)"
	b.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"api_token": {apiToken}}.Encode()))
		if err != nil {
			return nil, err
		}
		token, refused, err := b.exchange(hc, req)
		if refused != nil {
			return nil, b.refused("API token exchange", advice, refused)
		}
		return token, err
	}
	return b
}

// exchange posts a token request and reads the answer: a token, Cloud Services' refusal, or another error. An
// answer without a scope is refused, as the official SDK refuses it; one without expires_in is kept for
// defaultTokenLifetime.
func (b *Bearer) exchange(hc *http.Client, req *http.Request) (*oauth2.Token, *oauth2.RetrieveError, error) {
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, &Error{Kind: KindUnreachable, Message: fmt.Sprintf("cannot reach Cloud Services at %s to sign in: %v", b.host, unwrapURLError(err)), Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode != http.StatusOK {
		refused := &oauth2.RetrieveError{Response: resp, Body: raw}
		var body struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &body) == nil {
			refused.ErrorCode = body.Error
		}
		return nil, refused, nil
	}
	var body struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   int64   `json:"expires_in"`
		Scope       *string `json:"scope"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" {
		return nil, nil, &Error{Kind: KindMalformed, Message: fmt.Sprintf("Cloud Services at %s answered the sign-in without an access token", b.host)}
	}
	if body.Scope == nil {
		return nil, nil, &Error{Kind: KindUnauthorized, Message: fmt.Sprintf("Cloud Services at %s granted the sign-in no scope: give the credential access to the Carbon Black Cloud org", b.host)}
	}
	lifetime := time.Duration(body.ExpiresIn) * time.Second
	if body.ExpiresIn <= 0 {
		lifetime = defaultTokenLifetime
	}
	return &oauth2.Token{AccessToken: body.AccessToken, TokenType: "Bearer", Expiry: time.Now().Add(lifetime)}, nil, nil
}

// SignIn says how the last sign-in went, for the health check: for an OAuth app, how its credentials travel.
func (b *Bearer) SignIn() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.signIn == nil {
		return ""
	}
	return "the OAuth app's credentials go in " + b.signIn.String()
}

// refused turns a failed token exchange into an error that names the step, the status and the host.
func (b *Bearer) refused(step, advice string, err error) error {
	var retrieve *oauth2.RetrieveError
	if !errors.As(err, &retrieve) || retrieve.Response == nil {
		return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("%s failed: cannot reach Cloud Services at %s: %v", step, b.host, unwrapURLError(err)), Err: err}
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Message     string `json:"message"`
	}
	_ = json.Unmarshal(retrieve.Body, &body)
	detail := strings.TrimSpace(strings.Join(nonEmpty(body.Error, body.Description, body.Message), ": "))
	if detail != "" {
		detail = " (" + detail + ")"
	}
	status := retrieve.Response.StatusCode
	kind := KindUnauthorized
	if status >= 500 {
		kind = KindServer
	}
	return &Error{Kind: kind, Status: http.StatusUnauthorized, Message: fmt.Sprintf("%s refused (%d) at %s%s: %s", step, status, b.host, detail, advice)}
}

func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// token returns an access token, fetching one when none is kept or the kept one is close to expiring.
func (b *Bearer) token(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current != nil && time.Now().Before(b.refreshAt) {
		return b.current.AccessToken, nil
	}
	fresh, err := b.fetch(ctx)
	if err != nil {
		return "", err
	}
	// Replace it a minute before it expires, or a quarter of its lifetime before when that is shorter.
	b.current, b.refreshAt = fresh, fresh.Expiry.Add(-min(time.Minute, time.Until(fresh.Expiry)/4))
	b.secrets = append(b.secrets[:1], fresh.AccessToken)
	return fresh.AccessToken, nil
}

// invalidate drops a token CBC refused, unless another call already replaced it.
func (b *Bearer) invalidate(token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current != nil && b.current.AccessToken == token {
		b.current = nil
	}
}

// redactable lists the strings no message may show.
func (b *Bearer) redactable() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.secrets...)
}

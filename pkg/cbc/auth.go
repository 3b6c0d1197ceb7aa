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
	"golang.org/x/oauth2/clientcredentials"
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
}

// tokenClient calls Cloud Services; it never follows a redirect, so credentials stay with the host they are for.
func tokenClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// OAuthApp signs in as an OAuth app: POST {csp}/csp/gateway/am/api/auth/token with HTTP Basic client_id:secret
// and grant_type=client_credentials.
func OAuthApp(csp, clientID, clientSecret string, timeout time.Duration) *Bearer {
	cfg := clientcredentials.Config{
		ClientID: clientID, ClientSecret: clientSecret, AuthStyle: oauth2.AuthStyleInHeader,
		TokenURL: strings.TrimRight(csp, "/") + "/csp/gateway/am/api/auth/token",
	}
	hc := tokenClient(timeout)
	b := &Bearer{host: hostOf(csp), secrets: []string{clientSecret}}
	b.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		token, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
		if err != nil {
			return nil, b.refused("OAuth app sign-in", "check the client ID and client secret of the OAuth app in the Cloud Services console", err)
		}
		return token, nil
	}
	return b
}

// APIToken signs in with a personal API token: POST {csp}/csp/gateway/am/api/auth/api-tokens/authorize with the
// form field api_token. An answer without a scope is refused, as the official SDK refuses it.
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
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, &Error{Kind: KindUnreachable, Message: fmt.Sprintf("cannot reach Cloud Services at %s to exchange the API token: %v", b.host, unwrapURLError(err)), Err: err}
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if resp.StatusCode != http.StatusOK {
			return nil, b.refused("API token exchange", advice, &oauth2.RetrieveError{Response: resp, Body: raw})
		}
		var body struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
			Scope       string `json:"scope"`
		}
		if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" {
			return nil, &Error{Kind: KindMalformed, Message: fmt.Sprintf("Cloud Services at %s answered the API token exchange without an access token", b.host)}
		}
		if body.Scope == "" {
			return nil, &Error{Kind: KindUnauthorized, Message: fmt.Sprintf("Cloud Services at %s granted the API token no scope: give the token access to the Carbon Black Cloud org", b.host)}
		}
		return &oauth2.Token{AccessToken: body.AccessToken, TokenType: "Bearer", Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
	}
	return b
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
	if fresh.Expiry.IsZero() {
		b.refreshAt = time.Now().Add(24 * time.Hour)
	}
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

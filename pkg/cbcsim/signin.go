package cbcsim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sign-in through VMware Cloud Services, for orgs whose logins it manages: OAuth apps (client credentials) and
// personal API tokens are exchanged for short-lived access tokens, which every CBC route accepts as Bearer.

// App is an OAuth app the simulator's Cloud Services knows.
type App struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Permissions  []string `json:"permissions"`
}

// APIToken is a personal API token; a revoked or expired one is refused at the exchange.
type APIToken struct {
	Token       string   `json:"token"`
	Permissions []string `json:"permissions"`
	Revoked     bool     `json:"revoked"`
	Expired     bool     `json:"expired"`
}

// DefaultApps are the OAuth apps a simulator knows unless told otherwise.
func DefaultApps() []App {
	return []App{{ClientID: "grafana-oauth-app", ClientSecret: "SIMULATORAPPSECRET000001", Permissions: []string{PermAudits, PermJobs}}}
}

// DefaultAPITokens are the API tokens a simulator knows unless told otherwise: one with every permission, one
// revoked and one expired.
func DefaultAPITokens() []APIToken {
	all := []string{PermAudits, PermJobs}
	return []APIToken{
		{Token: "SIMULATORAPITOKEN0000000000000001", Permissions: all},
		{Token: "SIMULATORAPITOKEN000000000REVOKED", Permissions: all, Revoked: true},
		{Token: "SIMULATORAPITOKEN000000000EXPIRED", Permissions: all, Expired: true},
	}
}

// accessToken is an access token the simulator issued.
type accessToken struct {
	subject string // the key state it reads as: each app and API token has its own queue and jobs
	expires time.Time
}

func (s *Simulator) signInRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /csp/gateway/am/api/auth/token", s.handleClientCredentials)
	mux.HandleFunc("POST /csp/gateway/am/api/auth/api-tokens/authorize", s.handleAPIToken)
}

func signInError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, Fault{}, reply{status: status, body: map[string]string{"error": code, "error_description": description}})
}

// clientCredentials reads an OAuth app's ID and secret the one way the simulator's Cloud Services takes them
// (Config.CSPBasic): raw or form-urlencoded in HTTP Basic, or in the form body.
func (s *Simulator) clientCredentials(r *http.Request) (id, secret string, ok bool) {
	if s.cfg.CSPBasic == "body" {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		return id, secret, id != ""
	}
	id, secret, ok = r.BasicAuth()
	if ok && s.cfg.CSPBasic == "urlencoded" {
		var errID, errSecret error
		id, errID = url.QueryUnescape(id)
		secret, errSecret = url.QueryUnescape(secret)
		ok = errID == nil && errSecret == nil
	}
	return id, secret, ok
}

func (s *Simulator) handleClientCredentials(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	if r.PostFormValue("grant_type") != "client_credentials" {
		signInError(w, http.StatusBadRequest, "invalid_request", "send grant_type=client_credentials")
		return
	}
	id, secret, ok := s.clientCredentials(r)
	if !ok {
		signInError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed: no client credentials where this server reads them")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, app := range s.cfg.Apps {
		if app.ClientID == id && app.ClientSecret == secret {
			s.issue(w, "app:"+id, "")
			return
		}
	}
	signInError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
}

func (s *Simulator) handleAPIToken(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	token := r.PostFormValue("api_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.cfg.APITokens {
		if t.Token != token || token == "" {
			continue
		}
		switch {
		case t.Revoked:
			signInError(w, http.StatusBadRequest, "invalid_grant", "the API token was revoked")
		case t.Expired:
			signInError(w, http.StatusBadRequest, "invalid_grant", "the API token has expired")
		default:
			s.issue(w, "token:"+token[len(token)-8:], "csp:org_member")
		}
		return
	}
	signInError(w, http.StatusBadRequest, "invalid_grant", "the API token is not valid")
}

// issue answers a successful exchange with a new access token for subject. The caller holds s.mu.
func (s *Simulator) issue(w http.ResponseWriter, subject, scope string) {
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := hex.EncodeToString(raw)
	s.tokens[token] = accessToken{subject: subject, expires: s.cfg.Now().Add(s.cfg.TokenTTL)}
	body := map[string]any{"access_token": token, "token_type": "bearer", "expires_in": int(s.cfg.TokenTTL / time.Second), "scope": scope}
	if scope == "" {
		body["scope"] = "csp:org_member"
	}
	writeJSON(w, Fault{}, ok(body))
}

// bearer finds the key state an Authorization: Bearer header signs in as, or says why it cannot. The caller
// holds s.mu.
func (s *Simulator) bearer(header string) (*keyState, string) {
	token, found := strings.CutPrefix(header, "Bearer ")
	issued, known := s.tokens[token]
	switch {
	case !found || !known:
		return nil, "the access token is not valid"
	case !s.cfg.Now().Before(issued.expires):
		return nil, "the access token has expired"
	}
	return s.keys[issued.subject], ""
}

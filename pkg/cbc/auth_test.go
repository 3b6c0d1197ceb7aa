package cbc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// fakeCloudServices answers token requests with answer, under a path prefix, and counts them; the CBC side
// accepts any bearer token it issued and refuses the others with 401.
func fakeCloudServices(t *testing.T, prefix string, answer map[string]any) (url string, exchanges, searches *atomic.Int64, revoke func()) {
	t.Helper()
	exchanges, searches = new(atomic.Int64), new(atomic.Int64)
	var valid atomic.Value
	valid.Store("")
	mux := http.NewServeMux()
	token := func(w http.ResponseWriter, _ *http.Request) {
		n := exchanges.Add(1)
		body := map[string]any{"access_token": "token-" + string(rune('a'+n))}
		for k, v := range answer {
			body[k] = v
		}
		valid.Store(body["access_token"])
		_ = json.NewEncoder(w).Encode(body)
	}
	mux.HandleFunc("POST "+prefix+"/csp/gateway/am/api/auth/token", token)
	mux.HandleFunc("POST "+prefix+"/csp/gateway/am/api/auth/api-tokens/authorize", token)
	mux.HandleFunc("POST /audit_log/v1/orgs/ABCD1234/logs/_search", func(w http.ResponseWriter, r *http.Request) {
		searches.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+valid.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"num_found": 0, "num_available": 0, "results": []}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, exchanges, searches, func() { valid.Store("revoked") }
}

func bearerClient(url string, bearer *cbc.Bearer) *cbc.Client {
	return cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", Bearer: bearer, Timeout: 5 * time.Second, Concurrency: 2})
}

// A token answered without expires_in is kept, not exchanged again for every call, and replaced when CBC
// refuses it. A Cloud Services URL with a path keeps it.
func TestTokenWithoutExpiry(t *testing.T) {
	for name, makeBearer := range map[string]func(string) *cbc.Bearer{
		"OAuth app": func(csp string) *cbc.Bearer { return cbc.OAuthApp(csp, "app", "secret", 5*time.Second) },
		"API token": func(csp string) *cbc.Bearer { return cbc.APIToken(csp, "token", 5*time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			url, exchanges, _, revoke := fakeCloudServices(t, "/behind/a/proxy", map[string]any{"scope": ""})
			client := bearerClient(url, makeBearer(url+"/behind/a/proxy/"))
			defer client.Close()
			for range 5 {
				if _, err := client.Page(context.Background(), cbc.SearchRequest{Rows: 1}); err != nil {
					t.Fatal(err)
				}
			}
			if exchanges.Load() != 1 {
				t.Errorf("%d token exchanges for 5 calls with a token of no stated lifetime, want 1", exchanges.Load())
			}
			revoke()
			if _, err := client.Page(context.Background(), cbc.SearchRequest{Rows: 1}); err != nil {
				t.Fatalf("after CBC refused the kept token: %v", err)
			}
			if exchanges.Load() != 2 {
				t.Errorf("%d token exchanges after CBC refused the token, want 2", exchanges.Load())
			}
		})
	}
}

// As in the official SDK, a token answer without a scope is refused on both paths, and an empty one is not.
func TestScopeRulesFollowTheSDK(t *testing.T) {
	for name, makeBearer := range map[string]func(string) *cbc.Bearer{
		"OAuth app": func(csp string) *cbc.Bearer { return cbc.OAuthApp(csp, "app", "secret", 5*time.Second) },
		"API token": func(csp string) *cbc.Bearer { return cbc.APIToken(csp, "token", 5*time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			url, _, searches, _ := fakeCloudServices(t, "", map[string]any{"expires_in": 1800})
			client := bearerClient(url, makeBearer(url))
			defer client.Close()
			_, err := client.Page(context.Background(), cbc.SearchRequest{Rows: 1})
			if cbc.KindOf(err) != cbc.KindUnauthorized || !strings.Contains(err.Error(), "no scope") {
				t.Errorf("a token without a scope: %v", err)
			}
			if searches.Load() != 0 {
				t.Error("a token without a scope was used")
			}
		})
	}
}

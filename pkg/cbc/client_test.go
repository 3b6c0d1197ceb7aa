package cbc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// Requests name the plugin and Grafana, so that CBC's support can tell this traffic apart.
func TestRequestsCarryTheUserAgent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("User-Agent"))
		_, _ = io.WriteString(w, `{"num_found": 0, "num_available": 0, "results": []}`)
	}))
	defer srv.Close()
	client := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, UserAgent: "Grafana-CBC-AuditLogs/1.4.0 Grafana/13.1.0"})
	if _, err := client.Page(context.Background(), cbc.SearchRequest{}); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "Grafana-CBC-AuditLogs/1.4.0 Grafana/13.1.0" {
		t.Errorf("User-Agent %q", got.Load())
	}
}

// A response body past the bound fails with a clear error instead of being read whole.
func TestOversizedBodyIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"num_found": 1, "num_available": 1, "results": [{"description": "`)
		chunk := strings.Repeat("x", 1<<20)
		for range 80 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}]}`)
	}))
	defer srv.Close()
	_, err := newClient(srv.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
	if cbc.KindOf(err) != cbc.KindMalformed || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("an 80 MiB body: %v", err)
	}
}

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

// An error that echoes the request keeps no piece of the secret of six characters or more, wherever it stands
// in the secret and whatever surrounds it; shorter pieces, which any text may share by chance, stay.
func TestErrorsKeepNoPieceOfTheSecret(t *testing.T) {
	const secret = "Q7ZK2M9WXR4TB8NP5VHC" // shares no six characters with the API ID
	pieces := []string{secret, secret[:6], secret[7:13], secret[14:], "x" + secret[3:11] + "y"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error_code":"INVALID_ARGUMENT","message":"bad token parts: `+strings.Join(pieces, ", ")+`, kept: `+secret[2:7]+`"}`)
	}))
	defer srv.Close()
	_, err := cbc.New(cbc.Config{BaseURL: srv.URL, OrgKey: "ABCD1234", APIID: "GRAFANA001", APISecret: secret}).Page(context.Background(), cbc.SearchRequest{})
	if err == nil {
		t.Fatal("no error")
	}
	for i := 0; i+6 <= len(secret); i++ {
		if strings.Contains(err.Error(), secret[i:i+6]) {
			t.Fatalf("the error keeps %q of the secret: %v", secret[i:i+6], err)
		}
	}
	if !strings.Contains(err.Error(), "kept: "+secret[2:7]) {
		t.Errorf("a five-character piece was redacted too: %v", err)
	}
	if got := cbc.Redact("a "+secret[5:12]+" b", secret); got != "a [redacted] b" {
		t.Errorf("Redact: %q", got)
	}
}

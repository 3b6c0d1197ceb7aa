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
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// credentialsSeen records whether requests to a server carried CBC credentials.
type credentialsSeen struct {
	requests, withCredentials atomic.Int32
}

func (c *credentialsSeen) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if r.Header.Get("X-Auth-Token") != "" || r.Header.Get("Authorization") != "" {
			c.withCredentials.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// The secret never follows a redirect to another host, nor down from HTTPS to HTTP.
func TestCredentialsNeverFollowARedirect(t *testing.T) {
	var other credentialsSeen
	elsewhere := httptest.NewServer(other.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"num_found": 0, "num_available": 0, "results": []}`)
	})))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, status)
		}))
		_, _ = newClient(origin.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
		origin.Close()
	}
	if other.requests.Load() != 2 || other.withCredentials.Load() != 0 {
		t.Errorf("the other host got %d requests, %d with credentials", other.requests.Load(), other.withCredentials.Load())
	}

	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer secure.Close()
	client := cbc.New(cbc.Config{BaseURL: secure.URL, OrgKey: "ABCD1234", APIID: fullKey, APISecret: fullSec, Transport: secure.Client().Transport})
	_, err := client.Page(context.Background(), cbc.SearchRequest{})
	if err == nil || !strings.Contains(err.Error(), "HTTPS to http") || other.requests.Load() != 2 {
		t.Errorf("an HTTPS to HTTP redirect: %v, %d requests reached the plain host", err, other.requests.Load()-2)
	}
}

// A download that CBC redirects to a storage host arrives whole, and the storage host sees no credentials.
func TestDownloadRedirectLeavesCredentialsBehind(t *testing.T) {
	files := httptest.NewServer(http.NotFoundHandler())
	defer files.Close()
	sim, url := startSim(t, cbcsim.Config{EventsPerDay: 500, DownloadRedirect: files.URL})
	files.Config.Handler = sim.FileHandler()
	client := newClient(url, fullKey, fullSec)
	ctx := context.Background()
	id, err := client.StartExport(ctx, cbc.ExportRequest{Format: cbc.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.WaitForJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	file, err := client.Download(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(file.Body)
	file.Body.Close()
	if lines := strings.Count(string(raw), "\n"); lines != len(sim.Records())+1 {
		t.Errorf("the file has %d lines for %d records", lines, len(sim.Records()))
	}
	if sim.Requests("file") != 1 || sim.Requests("file with credentials") != 0 {
		t.Errorf("the storage host got %d requests, %d with credentials", sim.Requests("file"), sim.Requests("file with credentials"))
	}
}

// No piece of the secret reaches an error, whatever an upstream echoes back.
func TestErrorsNeverCarryThePieceOfASecret(t *testing.T) {
	for _, body := range []string{
		`{"num_found": 1, "results": [` + fullSec[:20] + `]}`,
		fullSec[3:18] + ` is not a token`,
		`{"message": "bad token ` + fullSec + `/` + fullKey + `"}`,
	} {
		for _, status := range []int{200, 400, 500} {
			if status == 200 && strings.HasPrefix(body, `{"message"`) {
				continue // a valid, empty answer
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
			}))
			_, err := newClient(srv.URL, fullKey, fullSec).Page(context.Background(), cbc.SearchRequest{})
			srv.Close()
			if err == nil {
				t.Fatalf("%d %s: no error", status, body)
			}
			for i := 0; i+6 <= len(fullSec); i++ {
				if strings.Contains(err.Error(), fullSec[i:i+6]) {
					t.Errorf("%d %s: the error %q holds %q of the secret", status, body, err, fullSec[i:i+6])
					break
				}
			}
		}
	}
}

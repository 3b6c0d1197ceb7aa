package cbc_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// simNow is when the simulator's clock starts in tests, so generated data is the same every run; the clock then
// runs, so export jobs progress.
var simNow = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

const (
	fullKey   = "GRAFANA001"
	fullSec   = "SIMULATORSECRET0GRAFANA01"
	auditKey  = "AUDITONLY1"
	auditSec  = "SIMULATORSECRET0AUDITONLY"
	noPermKey = "NOPERMS001"
	noPermSec = "SIMULATORSECRET00NOPERMS1"
)

// startSim serves a simulator on a loopback port for the test's lifetime.
func startSim(t testing.TB, cfg cbcsim.Config) (*cbcsim.Simulator, string) {
	t.Helper()
	if cfg.Now == nil {
		started := time.Now()
		cfg.Now = func() time.Time { return simNow.Add(time.Since(started)) }
	}
	sim := cbcsim.New(cfg)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return sim, srv.URL
}

func newClient(url, id, secret string) *cbc.Client {
	return cbc.New(cbc.Config{BaseURL: url, OrgKey: "ABCD1234", APIID: id, APISecret: secret, Timeout: 10 * time.Second, Concurrency: 4})
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveBody answers every request with body, for parsing tests.
func serveBody(t *testing.T, body []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

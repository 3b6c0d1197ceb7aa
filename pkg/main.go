package main

import (
	"os"
	"runtime/debug"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed/cbcauditlogs/pkg/plugin"
)

// PluginID is the id in src/plugin.json.
const PluginID = "seed-cbcauditlogs-datasource"

func main() {
	limitMemory()
	if err := datasource.Manage(PluginID, plugin.NewFactory(prometheus.DefaultRegisterer).NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("plugin stopped", "error", err)
		os.Exit(1)
	}
}

// limitMemory bounds the process to about 250 MB resident with a soft limit of 184 MiB for the Go runtime (the
// program's code and the libraries' take the rest): near it the garbage collector works harder instead of
// letting the heap grow. A search of 200000 records holds about 130 MB while the SDK encodes its frames
// (up to 200 MB for a table with GeoIP); without the limit, the heap would grow to twice that between
// collections. GOMEMLIMIT wins when set (Grafana passes it on with [plugins] forward_host_env_vars).
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(184 << 20)
	}
}

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

// limitMemory bounds the process to about 320 MiB resident: a search holds its records while it shapes them
// into a frame, and a 200000-record one would otherwise take the heap past 500 MB. Near a soft limit of 288 MiB
// (the Go runtime's memory; the program's code and the libraries' take the rest of the 320) the garbage collector
// works harder instead of letting the heap grow; below it, GOGC 200 halves its work. GOMEMLIMIT and GOGC win
// when set (Grafana passes them on with [plugins] forward_host_env_vars).
func limitMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(288 << 20)
	}
}

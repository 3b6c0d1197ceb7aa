package plugintest

import (
	"encoding/json"
	"fmt"
	"os"
)

// DashboardQueries reads the queries of a provisioned dashboard's panels that use this plugin, in panel order,
// without their data source reference: the queries Grafana sends when the dashboard loads.
func DashboardQueries(path string) ([]map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var dashboard struct {
		Panels []struct {
			Targets []map[string]any `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []map[string]any
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			if ds, _ := target["datasource"].(map[string]any); ds != nil && ds["type"] != PluginID {
				continue
			}
			delete(target, "datasource")
			out = append(out, target)
		}
	}
	return out, nil
}

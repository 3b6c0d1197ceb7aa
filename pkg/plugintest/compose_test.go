package plugintest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"gopkg.in/yaml.v3"
)

// The compose stack's pieces fit: the simulator accepts its command line, and the data sources provisioned for
// the single Grafana and for the ha profile's replicas pass the health check against it with their own keys
// (a queue is per key), the replicas with the Redis their grafana.ini section names, and with the GeoIP City
// database the image ships.
func TestComposeStackFitsTogether(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Profiles    []string          `yaml:"profiles"`
		} `yaml:"services"`
	}
	raw, err := os.ReadFile("../../docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	sim := StartSimulator(t, binaries.sim, compose.Services["cbcsim"].Command...)
	for _, replica := range []string{"grafana-a", "grafana-b"} {
		env := compose.Services[replica].Environment
		if env["GF_PLUGIN_SEED_CBCAUDITLOGS_DATASOURCE_REDIS_ADDRESS"] != "redis:6379" || env["GF_LIVE_HA_ENGINE"] != "redis" {
			t.Errorf("%s does not share Redis: %v", replica, env)
		}
		if len(compose.Services[replica].Profiles) != 1 || compose.Services[replica].Profiles[0] != "ha" {
			t.Errorf("%s is not in the ha profile", replica)
		}
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	const imageGeoIPDir = "/var/lib/grafana/geoip/"
	if !strings.Contains(string(dockerfile), imageGeoIPDir+"\n") {
		t.Errorf("the Dockerfile copies nothing into %s", imageGeoIPDir)
	}
	p := StartPlugin(t, binaries.plugin)
	keys := map[string]bool{}
	for _, file := range []string{"../../provisioning/datasources/datasources.yml", "../../provisioning/ha/datasources.yml"} {
		var prov struct {
			Datasources []struct {
				UID            string            `yaml:"uid"`
				JSONData       map[string]any    `yaml:"jsonData"`
				SecureJSONData map[string]string `yaml:"secureJsonData"`
			} `yaml:"datasources"`
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, &prov); err != nil {
			t.Fatal(err)
		}
		for _, d := range prov.Datasources {
			d.JSONData["url"] = sim.URL // compose names the host cbcsim
			if path, _ := d.JSONData["geoipCityDatabase"].(string); path != "" {
				// The image copies the npm package's database there (Dockerfile).
				if !strings.Contains(string(dockerfile), filepath.Base(path)+" ") || !strings.HasPrefix(path, imageGeoIPDir) {
					t.Errorf("%s names %s, which the Dockerfile does not copy into %s", file, path, imageGeoIPDir)
				}
				d.JSONData["geoipCityDatabase"] = cityDatabase(t)
			}
			key := d.JSONData["apiId"].(string)
			if keys[key] {
				t.Errorf("%s reuses the API key %s: the replicas and the single Grafana would take events from one queue", file, key)
			}
			keys[key] = true
			res, err := p.CheckHealth(context.Background(), DataSource{UID: d.UID + strings.ReplaceAll(file, "/", "-"), JSONData: d.JSONData, Secret: d.SecureJSONData["apiSecret"]})
			if err != nil || res.Status != backend.HealthStatusOk {
				t.Errorf("%s: %v %+v", file, err, res)
			}
		}
	}
}

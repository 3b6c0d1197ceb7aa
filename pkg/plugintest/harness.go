// Package plugintest starts the built plugin binary the way Grafana does — hashicorp go-plugin over gRPC with
// the SDK's handshake and protocol version — and the standalone simulator beside it, so tests drive
// QueryData, CheckHealth, CallResource and RunStream through the real protocol.
package plugintest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// PluginID is the plugin's id, as in src/plugin.json.
const PluginID = "seed-cbcauditlogs-datasource"

// Build compiles the package at pkgPath (relative to the module root, e.g. "./pkg") into dir and returns the
// binary's path.
func Build(dir, pkgPath, name string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkgPath)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkgPath, err, msg)
	}
	return out, nil
}

// Simulator is the standalone cbcsim binary running on free loopback ports.
type Simulator struct {
	URL      string // the first address it serves
	HTTPSURL string // its HTTPS address, when started with -https-addr
	cmd      *exec.Cmd
}

// Binaries are the simulator and the plugin, built into a directory of their own.
type Binaries struct{ Sim, Plugin, dir string }

// BuildAll compiles the simulator and the plugin into a new temporary directory; Remove deletes it.
func BuildAll() (Binaries, error) {
	dir, err := os.MkdirTemp("", "cbcauditlogs-binaries")
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{dir: dir}
	if b.Plugin, err = Build(dir, "./pkg", "gpx_cbcauditlogs"); err == nil {
		b.Sim, err = Build(dir, "./cmd/cbcsim", "cbcsim")
	}
	if err != nil {
		b.Remove()
	}
	return b, err
}

// Remove deletes the binaries.
func (b Binaries) Remove() { _ = os.RemoveAll(b.dir) }

// RunSimulator runs the simulator binary with args (plus a free loopback address) until Stop.
func RunSimulator(binary string, args ...string) (*Simulator, error) {
	cmd := exec.Command(binary, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sim := &Simulator{cmd: cmd}
	wantHTTPS := slices.Contains(args, "-https-addr")
	urls := make(chan string)
	go func() {
		defer close(urls)
		for lines := bufio.NewScanner(stdout); lines.Scan(); {
			if _, rest, ok := strings.Cut(lines.Text(), "listening on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	timeout := time.After(60 * time.Second)
	for sim.URL == "" || (wantHTTPS && sim.HTTPSURL == "") {
		select {
		case url, ok := <-urls:
			if !ok {
				sim.Stop()
				return nil, fmt.Errorf("the simulator exited before listening")
			}
			if sim.URL == "" {
				sim.URL = url
			} else {
				sim.HTTPSURL = url
			}
		case <-timeout:
			sim.Stop()
			return nil, fmt.Errorf("the simulator did not start within a minute")
		}
	}
	go func() {
		for range urls {
		}
	}()
	return sim, nil
}

// StartSimulator runs the simulator until the test ends.
func StartSimulator(t testing.TB, binary string, args ...string) *Simulator {
	t.Helper()
	sim, err := RunSimulator(binary, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	return sim
}

// Stop ends the simulator process.
func (s *Simulator) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Plugin is a running plugin process and its gRPC clients.
type Plugin struct {
	client      *goplugin.Client
	Data        pluginv2.DataClient
	Diagnostics pluginv2.DiagnosticsClient
	Resource    pluginv2.ResourceClient
	Stream      pluginv2.StreamClient
}

// LaunchPlugin starts the plugin binary as Grafana does and connects to every service it offers. Kill ends it.
func LaunchPlugin(binary string) (*Plugin, error) { return launch(binary, io.Discard) }

// LaunchPluginWithEnv starts the plugin with extra environment variables, as Grafana passes grafana.ini's
// [plugin.<id>] settings (GF_PLUGIN_*).
func LaunchPluginWithEnv(binary string, env ...string) (*Plugin, error) {
	return launch(binary, io.Discard, env...)
}

// launch starts the plugin with its log lines (its standard error, as Grafana reads it) going to output.
func launch(binary string, output io.Writer, env ...string) (*Plugin, error) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), env...)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"data":        &grpcplugin.DataGRPCPlugin{},
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
				"stream":      &grpcplugin.StreamGRPCPlugin{},
			},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: output, Level: hclog.Trace}),
	})
	p := &Plugin{client: client}
	rpc, err := client.Client()
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	for name, into := range map[string]any{"data": &p.Data, "diagnostics": &p.Diagnostics, "resource": &p.Resource, "stream": &p.Stream} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			p.Kill()
			return nil, fmt.Errorf("the plugin offers no %s service: %w", name, err)
		}
		if err := assign(into, raw); err != nil {
			p.Kill()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return p, nil
}

// StartPlugin starts the plugin until the test ends.
func StartPlugin(t testing.TB, binary string) *Plugin {
	t.Helper()
	p, err := LaunchPlugin(binary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// Output collects what a plugin logs.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String is everything logged so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// StartPluginLogging starts the plugin until the test ends, collecting everything it logs.
func StartPluginLogging(t testing.TB, binary string) (*Plugin, *Output) {
	t.Helper()
	out := &Output{}
	p, err := launch(binary, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, out
}

// CollectMetrics asks the plugin for its Prometheus metrics, in the text exposition format.
func (p *Plugin) CollectMetrics(ctx context.Context) (string, error) {
	resp, err := p.Diagnostics.CollectMetrics(ctx, &pluginv2.CollectMetricsRequest{})
	if err != nil {
		return "", err
	}
	return string(resp.Metrics.Prometheus), nil
}

// Kill ends the plugin process.
func (p *Plugin) Kill() { p.client.Kill() }

func assign(into, raw any) error {
	switch dst := into.(type) {
	case *pluginv2.DataClient:
		c, ok := raw.(pluginv2.DataClient)
		*dst = c
		return okOr(ok)
	case *pluginv2.DiagnosticsClient:
		c, ok := raw.(pluginv2.DiagnosticsClient)
		*dst = c
		return okOr(ok)
	case *pluginv2.ResourceClient:
		c, ok := raw.(pluginv2.ResourceClient)
		*dst = c
		return okOr(ok)
	case *pluginv2.StreamClient:
		c, ok := raw.(pluginv2.StreamClient)
		*dst = c
		return okOr(ok)
	}
	return fmt.Errorf("unknown client type %T", into)
}

func okOr(ok bool) error {
	if !ok {
		return fmt.Errorf("unexpected client type")
	}
	return nil
}

// PeakRSS is the plugin process's peak resident memory in bytes (VmHWM), read from /proc on Linux.
func (p *Plugin) PeakRSS() (int64, error) { return PeakRSS(p.client.ReattachConfig().Pid) }

// PeakRSS is a process's peak resident memory in bytes since it started its program (VmHWM), read from /proc
// on Linux.
func PeakRSS(pid int) (int64, error) { return procBytes(pid, "VmHWM") }

// RSS is the resident memory of the process pid now.
func RSS(pid int) (int64, error) { return procBytes(pid, "VmRSS") }

// procBytes reads a field in kB of /proc/<pid>/status, in bytes.
func procBytes(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// ResetPeakRSS starts a new peak: PeakRSS then reports the highest resident memory since this call.
func (p *Plugin) ResetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.client.ReattachConfig().Pid), []byte("5"), 0)
}

// Pid is the plugin process's id.
func (p *Plugin) Pid() int { return p.client.ReattachConfig().Pid }

// Exited reports whether the plugin process has ended (it must not, whatever it is sent).
func (p *Plugin) Exited() bool { return p.client.Exited() }

// DataSource is a data source instance's settings as Grafana sends them with each call.
type DataSource struct {
	UID      string
	JSONData map[string]any
	Secret   string // the API secret (secureJsonData apiSecret)
	// SecureJSONData holds other secrets, e.g. clientSecret or apiToken.
	SecureJSONData map[string]string
}

// PluginContext is the context Grafana attaches to every call for this data source.
func (ds DataSource) PluginContext() backend.PluginContext {
	raw, _ := json.Marshal(ds.JSONData)
	secure := map[string]string{"apiSecret": ds.Secret}
	maps.Copy(secure, ds.SecureJSONData)
	return backend.PluginContext{
		PluginID: PluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			UID: ds.UID, Name: ds.UID, Type: PluginID, JSONData: raw, Updated: time.Unix(1700000000, 0),
			DecryptedSecureJSONData: secure,
		},
	}
}

// QueryData sends queries as Grafana does, with headers (e.g. the alerting engine's), and decodes the reply.
func (p *Plugin) QueryData(ctx context.Context, ds DataSource, headers map[string]string, queries ...backend.DataQuery) (*backend.QueryDataResponse, error) {
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{PluginContext: ds.PluginContext(), Headers: headers, Queries: queries})
	resp, err := p.Data.QueryData(ctx, req)
	if err != nil {
		return nil, err
	}
	return backend.FromProto().QueryDataResponse(resp)
}

// CheckHealth runs the health check as the "Save & test" button does.
func (p *Plugin) CheckHealth(ctx context.Context, ds DataSource) (*backend.CheckHealthResult, error) {
	resp, err := p.Diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(ds.PluginContext())})
	if err != nil {
		return nil, err
	}
	return backend.FromProto().CheckHealthResponse(resp), nil
}

// CallResource calls a resource route and returns its status and whole body.
func (p *Plugin) CallResource(ctx context.Context, ds DataSource, method, path string, body []byte) (int, []byte, error) {
	var out bytes.Buffer
	status, err := p.StreamResource(ctx, ds, method, path, body, &out)
	return status, out.Bytes(), err
}

// StreamResource calls a resource route, writes its body to w chunk by chunk as Grafana relays it, and returns
// its status.
func (p *Plugin) StreamResource(ctx context.Context, ds DataSource, method, path string, body []byte, w io.Writer) (int, error) {
	stream, err := p.Resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
		PluginContext: ds.PluginContext(), Method: method, Path: path, URL: path, Body: body,
	}))
	if err != nil {
		return 0, err
	}
	status := 0
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			return status, nil
		}
		if err != nil {
			return status, err
		}
		if chunk.Code != 0 {
			status = int(chunk.Code)
		}
		if _, err := w.Write(chunk.Body); err != nil {
			return status, err
		}
	}
}

// RunStream opens a Grafana Live stream of the data source at path and hands each frame's JSON to onFrame
// until ctx ends or onFrame returns false.
func (p *Plugin) RunStream(ctx context.Context, ds DataSource, path string, onFrame func([]byte) bool) error {
	stream, err := p.Stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{PluginContext: ds.PluginContext(), Path: path}))
	if err != nil {
		return err
	}
	for {
		packet, err := stream.Recv()
		if err != nil {
			return err
		}
		if !onFrame(packet.Data) {
			return nil
		}
	}
}

// SubscribeStream asks whether a panel may subscribe to path.
func (p *Plugin) SubscribeStream(ctx context.Context, ds DataSource, path string) (backend.SubscribeStreamStatus, error) {
	resp, err := p.Stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: ds.PluginContext(), Path: path}))
	if err != nil {
		return 0, err
	}
	return backend.SubscribeStreamStatus(resp.Status), nil
}

// Truth is what a simulator's attack scenario must make a detection find (the simulator's /_sim/scenarios).
type Truth struct {
	Scenario, Detection, Entity string
	From, To                    time.Time
	Events                      int
}

// Attack adds an attack scenario to the simulator's events, from at.
func (s *Simulator) Attack(name string, at time.Time) (Truth, error) {
	body, _ := json.Marshal(map[string]time.Time{"at": at})
	resp, err := http.Post(s.URL+"/_sim/scenarios/"+name, "application/json", bytes.NewReader(body)) // #nosec G107 -- the test's own simulator
	if err != nil {
		return Truth{}, err
	}
	defer resp.Body.Close()
	var truth Truth
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return truth, fmt.Errorf("scenario %s: %s: %s", name, resp.Status, msg)
	}
	return truth, json.NewDecoder(resp.Body).Decode(&truth)
}

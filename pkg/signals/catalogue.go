// Package signals runs the security signals: detections over the audit events of a time range that say what
// happened (brute force, a new source, an administrator granted, ...), each named with its MITRE ATT&CK
// technique. The catalogue (detections.json) is shared with the query editor.
package signals

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/models"
)

// Detection is one entry of the catalogue: what it looks for, what it is called, and what it takes.
type Detection struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Technique     string      `json:"technique"`
	TechniqueName string      `json:"techniqueName"`
	Severity      string      `json:"severity"`
	Entity        string      `json:"entity"` // the label that names what a finding is about: actor or actor_ip
	Explanation   string      `json:"explanation"`
	Parameters    []Parameter `json:"parameters"`
	Profile       []string    `json:"profile,omitempty"` // the organisation's profile parts it reads
	NeedsGeoIP    bool        `json:"needsGeoIP,omitempty"`
}

// Parameter is one of a detection's parameters; its value is text in a query, as "10" or "15m".
type Parameter struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // count, duration or list
	Default string   `json:"default"`
	Options []string `json:"options,omitempty"`
}

// ProfilePart is a part of the organisation's profile a query may set in place of the data source's setting.
type ProfilePart struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Setting string `json:"setting"`
	Help    string `json:"help"`
}

//go:embed detections.json
var catalogueJSON []byte

var catalogue = func() (c struct {
	Profile    []ProfilePart `json:"profile"`
	Detections []Detection   `json:"detections"`
}) {
	if err := json.Unmarshal(catalogueJSON, &c); err != nil {
		panic(fmt.Sprintf("detections.json is invalid: %v", err)) // embedded at build time, so this fails every test
	}
	return c
}()

// CatalogueJSON is detections.json, which the query editor reads too.
func CatalogueJSON() []byte { return catalogueJSON }

// Detections is the catalogue, in its order.
func Detections() []Detection { return catalogue.Detections }

// Lookup finds a detection by its id.
func Lookup(id string) (Detection, bool) {
	i := slices.IndexFunc(catalogue.Detections, func(d Detection) bool { return d.ID == id })
	if i < 0 {
		return Detection{}, false
	}
	return catalogue.Detections[i], true
}

func ids() string {
	var out []string
	for _, d := range catalogue.Detections {
		out = append(out, d.ID)
	}
	return strings.Join(out, ", ")
}

// Plan is what one signals query runs: its detections, each with its parameters read, and the profile.
type Plan struct {
	Runs    []Run
	Profile models.Profile
}

// Run is one detection with the values of its parameters.
type Run struct {
	Detection
	counts    map[string]int
	durations map[string]time.Duration
	lists     map[string][]string
}

func (r Run) count(name string) int              { return r.counts[name] }
func (r Run) duration(name string) time.Duration { return r.durations[name] }
func (r Run) has(list, option string) bool       { return slices.Contains(r.lists[list], option) }

// NewPlan reads a signals query: which detection (all when empty), the parameters it sets, and the profile
// parts it sets in place of the data source's. The error names each bad value and what it takes.
func NewPlan(detection string, params map[string]string, settings models.Settings) (Plan, error) {
	var plan Plan
	var problems []string
	chosen := catalogue.Detections
	if detection != "" {
		d, ok := Lookup(detection)
		if !ok {
			return plan, fmt.Errorf("detection %q is unknown: use one of %s, or none for every detection", detection, ids())
		}
		chosen = []Detection{d}
	}
	profile, err := profileOf(params, settings)
	if err != nil {
		problems = append(problems, err.Error())
	}
	plan.Profile = profile
	known := map[string]bool{}
	for _, p := range catalogue.Profile {
		known[p.Name] = true
	}
	if detection != "" {
		for _, p := range chosen[0].Parameters {
			known[p.Name] = true
		}
	}
	for name := range params {
		if !known[name] {
			if detection == "" {
				problems = append(problems, fmt.Sprintf("parameter %q needs one detection: pick the detection whose parameter it is", name))
			} else {
				problems = append(problems, fmt.Sprintf("%s has no parameter %q: it takes %s", detection, name, parameterNames(chosen[0])))
			}
		}
	}
	for _, d := range chosen {
		run, errs := newRun(d, params)
		problems = append(problems, errs...)
		plan.Runs = append(plan.Runs, run)
	}
	if len(problems) > 0 {
		return Plan{}, models.NewUserError(fmt.Errorf("%s", strings.Join(problems, "; ")))
	}
	return plan, nil
}

func parameterNames(d Detection) string {
	var names []string
	for _, p := range d.Parameters {
		names = append(names, p.Name)
	}
	for _, p := range catalogue.Profile {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func newRun(d Detection, params map[string]string) (Run, []string) {
	run := Run{Detection: d, counts: map[string]int{}, durations: map[string]time.Duration{}, lists: map[string][]string{}}
	var problems []string
	for _, p := range d.Parameters {
		text := strings.TrimSpace(params[p.Name])
		if text == "" {
			text = p.Default
		}
		switch p.Kind {
		case "count":
			n, err := strconv.Atoi(text)
			if err != nil || n < 1 {
				problems = append(problems, fmt.Sprintf("%s %s %q must be a whole number of at least 1", d.ID, p.Name, text))
			}
			run.counts[p.Name] = n
		case "duration":
			step, err := time.ParseDuration(text)
			if err != nil || step <= 0 || step > 7*24*time.Hour {
				problems = append(problems, fmt.Sprintf("%s %s %q must be a duration such as 30s, 10m or 2h, at most 168h", d.ID, p.Name, text))
			}
			run.durations[p.Name] = step
		case "list":
			for _, option := range strings.Split(text, ",") {
				option = strings.TrimSpace(option)
				if !slices.Contains(p.Options, option) {
					problems = append(problems, fmt.Sprintf("%s %s takes %s, not %q", d.ID, p.Name, strings.Join(p.Options, ", "), option))
				}
				run.lists[p.Name] = append(run.lists[p.Name], option)
			}
		}
	}
	return run, problems
}

// profileOf is the data source's profile with the parts a query sets in its place.
func profileOf(params map[string]string, settings models.Settings) (models.Profile, error) {
	if v, ok := params["working_hours"]; ok {
		settings.WorkingHours = v
	}
	if v, ok := params["time_zone"]; ok {
		settings.TimeZone = v
	}
	if v, ok := params["known_ranges"]; ok {
		settings.KnownRanges = v
	}
	if v, ok := params["baseline_days"]; ok {
		days, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || days < 1 || days > 90 {
			return models.Profile{}, fmt.Errorf("baseline_days %q must be a whole number from 1 to 90", v)
		}
		settings.BaselineDays = days
	}
	return settings.Profile()
}

// Lookback is how far before the time range the plan reads: the longest window or baseline it uses.
func (p Plan) Lookback() time.Duration {
	var longest time.Duration
	for _, r := range p.Runs {
		window := r.durations["window"]
		if slices.Contains(r.Profile, "baseline_days") || r.ID == "impossible_travel" {
			window = max(window, p.Profile.Baseline)
		}
		longest = max(longest, window)
	}
	return longest
}

package models

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// CustomRegion is the region id that makes the data source use Settings.URL.
const CustomRegion = "custom"

// Region is a Carbon Black Cloud console host a user can pick.
type Region struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	URL   string `json:"url"`
}

//go:embed regions.json
var regionsJSON []byte

var regions = mustParseRegions(regionsJSON)

func mustParseRegions(raw []byte) []Region {
	var parsed []Region
	if err := json.Unmarshal(raw, &parsed); err != nil {
		panic(fmt.Sprintf("regions.json is invalid: %v", err)) // embedded at build time, so this fails every test
	}
	return parsed
}

// Regions lists the known Carbon Black Cloud hosts. The frontend reads the same file.
func Regions() []Region {
	return append([]Region(nil), regions...)
}

// Settings are a data source instance's configuration: jsonData plus the decrypted API secret.
type Settings struct {
	Region            string `json:"region"`
	URL               string `json:"url"`
	OrgKey            string `json:"orgKey"`
	APIID             string `json:"apiId"`
	AllowInsecureHTTP bool   `json:"allowInsecureHttp"`

	// How the plugin signs in: AuthAPIKey (API ID and secret), AuthOAuthApp (client credentials through
	// VMware Cloud Services) or AuthAPIToken (a personal API token, likewise). CSPURL is Cloud Services' host.
	AuthType string `json:"authType"`
	CSPURL   string `json:"cspUrl"`
	ClientID string `json:"clientId"`

	TimeoutSeconds       int `json:"timeoutSeconds"`
	Concurrency          int `json:"concurrency"`
	MaxRecords           int `json:"maxRecords"`
	RequestBudget        int `json:"requestBudget"`
	CacheSeconds         int `json:"cacheSeconds"`
	QueuePollSeconds     int `json:"queuePollSeconds"`
	QueueBackfillMinutes int `json:"queueBackfillMinutes"`
	QueueBufferSize      int `json:"queueBufferSize"`
	QueueBufferHours     int `json:"queueBufferHours"`

	// The history cache (docs/history-cache.md): closed time slices are read once and reused.
	DisableHistoryCache  bool `json:"disableHistoryCache"`
	SettleMinutes        int  `json:"settleMinutes"`
	AlertSettleMinutes   int  `json:"alertSettleMinutes"`
	HistoryMaxAgeMinutes int  `json:"historyMaxAgeMinutes"`
	HistoryCacheMB       int  `json:"historyCacheMB"`

	// Redis shared by several Grafana replicas (docs/replicas.md); grafana.ini's
	// [plugin.seed-cbcauditlogs-datasource] section wins over these.
	RedisAddress   string `json:"redisAddress"`
	RedisTLS       bool   `json:"redisTls"`
	RedisKeyPrefix string `json:"redisKeyPrefix"`
	// GeoIP databases on the Grafana host (mmdb): where each actor_ip is; empty paths place nothing.
	GeoIPCityDatabase string `json:"geoipCityDatabase"`
	GeoIPASNDatabase  string `json:"geoipAsnDatabase"`

	// The organisation's profile, for the security signals (Profile).
	WorkingHours string `json:"workingHours"`
	TimeZone     string `json:"timeZone"`
	KnownRanges  string `json:"knownRanges"`
	BaselineDays int    `json:"baselineDays"`

	APISecret     string `json:"-"`
	RedisPassword string `json:"-"` // secureJsonData redisPassword
	ClientSecret  string `json:"-"` // secureJsonData clientSecret
	APIToken      string `json:"-"` // secureJsonData apiToken
}

// Credential types.
const (
	AuthAPIKey   = "apiKey"
	AuthOAuthApp = "oauthApp"
	AuthAPIToken = "apiToken"
)

// LoadSettings reads an instance's settings. It fails only when jsonData is not JSON; missing or malformed
// values are reported by Validate, so the health check can name each of them.
func LoadSettings(source backend.DataSourceInstanceSettings) (Settings, error) {
	var s Settings
	if len(source.JSONData) > 0 {
		if err := json.Unmarshal(source.JSONData, &s); err != nil {
			return Settings{}, fmt.Errorf("the data source settings are not valid JSON: %w", err)
		}
	}
	s.APISecret = source.DecryptedSecureJSONData["apiSecret"]
	s.ClientSecret = source.DecryptedSecureJSONData["clientSecret"]
	s.RedisPassword = source.DecryptedSecureJSONData["redisPassword"]
	s.RedisAddress = strings.TrimSpace(s.RedisAddress)
	s.APIToken = strings.TrimSpace(source.DecryptedSecureJSONData["apiToken"])
	s.ClientID = strings.TrimSpace(s.ClientID)
	s.CSPURL = strings.TrimRight(strings.TrimSpace(s.CSPURL), "/")
	if s.AuthType == "" {
		s.AuthType = AuthAPIKey
	}
	s.Region = strings.TrimSpace(s.Region)
	s.URL = strings.TrimRight(strings.TrimSpace(s.URL), "/")
	s.OrgKey = strings.TrimSpace(s.OrgKey)
	s.APIID = strings.TrimSpace(s.APIID)
	return s, nil
}

var (
	orgKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	apiIDPattern  = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
)

// limit bounds a numeric setting; 0 always means the default.
type limit struct {
	Name    string `json:"name"`
	Min     int    `json:"min"`
	Max     int    `json:"max"`
	Unit    string `json:"unit"`
	Default int    `json:"default"`
}

// limitsFile is limits.json: each numeric setting's bounds and default, and a query's bounds. The config
// editor and the query editor read the same file.
type limitsFile struct {
	Settings map[string]limit `json:"settings"`
	Query    struct {
		DefaultLimit    int `json:"defaultLimit"`
		MaxLimit        int `json:"maxLimit"`
		MaxTopN         int `json:"maxTopN"`
		MaxIntervalDays int `json:"maxIntervalDays"`
	} `json:"query"`
}

//go:embed limits.json
var limitsJSON []byte

var limits = mustParseLimits(limitsJSON)

func mustParseLimits(raw []byte) limitsFile {
	var parsed limitsFile
	if err := json.Unmarshal(raw, &parsed); err != nil {
		panic(fmt.Sprintf("limits.json is invalid: %v", err)) // embedded at build time, so this fails every test
	}
	return parsed
}

// numbers are the numeric settings by their jsonData key, the keys of limits.json.
func (s Settings) numbers() map[string]int {
	return map[string]int{
		"timeoutSeconds":       s.TimeoutSeconds,
		"concurrency":          s.Concurrency,
		"maxRecords":           s.MaxRecords,
		"requestBudget":        s.RequestBudget,
		"cacheSeconds":         s.CacheSeconds,
		"queuePollSeconds":     s.QueuePollSeconds,
		"queueBackfillMinutes": s.QueueBackfillMinutes,
		"queueBufferSize":      s.QueueBufferSize,
		"queueBufferHours":     s.QueueBufferHours,
		"settleMinutes":        s.SettleMinutes,
		"alertSettleMinutes":   s.AlertSettleMinutes,
		"historyMaxAgeMinutes": s.HistoryMaxAgeMinutes,
		"historyCacheMB":       s.HistoryCacheMB,
		"baselineDays":         s.BaselineDays,
	}
}

// Validate returns one error per missing or malformed setting, joined; nil when the settings are usable.
func (s Settings) Validate() error {
	var problems []error
	if _, err := s.BaseURL(); err != nil {
		problems = append(problems, err)
	}
	switch {
	case s.OrgKey == "":
		problems = append(problems, errors.New("org key is missing: find it in the Carbon Black Cloud console under Settings > API Access"))
	case !orgKeyPattern.MatchString(s.OrgKey):
		problems = append(problems, fmt.Errorf("org key %q is malformed: it has only letters and digits, e.g. ABCD1234", s.OrgKey))
	}
	problems = append(problems, s.credentialProblems()...)
	numbers := s.numbers()
	for _, key := range slices.Sorted(maps.Keys(numbers)) {
		value, bound := numbers[key], limits.Settings[key]
		switch {
		case value < 0:
			problems = append(problems, fmt.Errorf("%s must not be negative (leave it empty for the default)", bound.Name))
		case value > bound.Max:
			problems = append(problems, fmt.Errorf("%s %d is too large: at most %d %s", bound.Name, value, bound.Max, bound.Unit))
		case value > 0 && value < bound.Min:
			problems = append(problems, fmt.Errorf("%s must be at least %d %s", bound.Name, bound.Min, bound.Unit))
		}
	}
	if s.RedisAddress != "" {
		if host, port, err := net.SplitHostPort(s.RedisAddress); err != nil || host == "" || port == "" {
			problems = append(problems, fmt.Errorf("Redis address %q is malformed: expected host:port, e.g. redis:6379", s.RedisAddress))
		}
	}
	return errors.Join(problems...)
}

// credentialProblems checks what the credential type needs.
func (s Settings) credentialProblems() []error {
	var problems []error
	switch s.AuthType {
	case AuthAPIKey:
		switch {
		case s.APIID == "":
			problems = append(problems, errors.New("API ID is missing: create a custom API key with READ on org.audits and copy its API ID"))
		case !apiIDPattern.MatchString(s.APIID):
			problems = append(problems, fmt.Errorf("API ID %q is malformed: it has only letters and digits, e.g. ABCDEFGHIJ", s.APIID))
		}
		switch {
		case s.APISecret == "":
			problems = append(problems, errors.New("API secret key is missing: paste the secret of the same API key"))
		case strings.ContainsAny(s.APISecret, " \t\r\n"):
			problems = append(problems, errors.New("API secret key is malformed: it contains white space"))
		}
	case AuthOAuthApp:
		if s.ClientID == "" {
			problems = append(problems, errors.New("client ID is missing: copy the OAuth app's ID from the Cloud Services console (Organization > OAuth Apps)"))
		}
		if s.ClientSecret == "" {
			problems = append(problems, errors.New("client secret is missing: paste the secret shown when the OAuth app was created"))
		}
	case AuthAPIToken:
		if s.APIToken == "" {
			problems = append(problems, errors.New("API token is missing: create one in the Cloud Services console (My Account > API Tokens)"))
		}
	default:
		problems = append(problems, fmt.Errorf("credential type %q is unknown: use apiKey, oauthApp or apiToken", s.AuthType))
	}
	if s.AuthType == AuthOAuthApp || s.AuthType == AuthAPIToken {
		if _, err := s.CSP(); err != nil {
			problems = append(problems, err)
		}
	}
	return problems
}

// Secrets are the settings' secrets, which no message may show.
func (s Settings) Secrets() []string {
	return []string{s.APISecret, s.ClientSecret, s.APIToken, s.RedisPassword}
}

// CSP is the VMware Cloud Services host that OAuth apps and API tokens sign in at.
func (s Settings) CSP() (string, error) {
	if s.CSPURL == "" {
		return DefaultCSP, nil
	}
	u, err := url.Parse(s.CSPURL)
	switch {
	case err != nil || u.Host == "":
		return "", fmt.Errorf("Cloud Services URL %q is malformed: expected e.g. %s", s.CSPURL, DefaultCSP)
	case u.Scheme == "http" && !s.AllowInsecureHTTP, u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("Cloud Services URL %q must start with https://", s.CSPURL)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"), nil
}

// DefaultCSP is VMware Cloud Services.
const DefaultCSP = "https://console.cloud.vmware.com"

// Identity names the credential whose queue the data source reads: the queue is per API key, OAuth app or token.
func (s Settings) Identity() string {
	switch s.AuthType {
	case AuthOAuthApp:
		return "app:" + s.ClientID
	case AuthAPIToken:
		sum := sha256.Sum256([]byte(s.APIToken))
		return "token:" + hex.EncodeToString(sum[:8])
	}
	return "key:" + s.APIID
}

// BaseURL is the console host the client calls, without a trailing slash.
func (s Settings) BaseURL() (string, error) {
	raw := s.URL
	if s.Region != "" && s.Region != CustomRegion {
		region, ok := regionByID(s.Region)
		if !ok {
			return "", fmt.Errorf("region %q is unknown: pick one from the list or choose a custom URL", s.Region)
		}
		raw = region.URL
	}
	if raw == "" {
		return "", errors.New("Carbon Black Cloud URL is missing: pick a region or enter your console's URL")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("URL %q is malformed: expected e.g. https://defense.conferdeploy.net", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.AllowInsecureHTTP:
	case u.Scheme == "http":
		return "", fmt.Errorf("URL %q uses plain HTTP: Carbon Black Cloud is served over HTTPS (plain HTTP is allowed only when 'Allow plain HTTP' is on, e.g. for the simulator)", raw)
	default:
		return "", fmt.Errorf("URL %q must start with https://", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("URL %q must be the console host only, without a path or query", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

func regionByID(id string) (Region, bool) {
	for _, r := range regions {
		if r.ID == id {
			return r, true
		}
	}
	return Region{}, false
}

// number is a numeric setting's value, or its default (limits.json) when unset.
func (s Settings) number(key string) int {
	if v := s.numbers()[key]; v > 0 {
		return v
	}
	return limits.Settings[key].Default
}

// Timeout is the per-request HTTP timeout.
func (s Settings) Timeout() time.Duration {
	return time.Duration(s.number("timeoutSeconds")) * time.Second
}

// CacheTTL is how long identical query results are reused.
func (s Settings) CacheTTL() time.Duration {
	return time.Duration(s.number("cacheSeconds")) * time.Second
}

// Settle is how long after its end a time slice is taken as final: CBC's ingestion delay.
func (s Settings) Settle() time.Duration {
	return time.Duration(s.number("settleMinutes")) * time.Minute
}

// AlertSettle is the settle time of an alert rule's queries: an alert must not miss an event CBC indexed late,
// so it reuses only history read at least this long after it ended, and never less than Settle.
func (s Settings) AlertSettle() time.Duration {
	return max(time.Duration(s.number("alertSettleMinutes"))*time.Minute, s.Settle())
}

// HistoryMaxAge is how long a closed time slice is reused before it is read again.
func (s Settings) HistoryMaxAge() time.Duration {
	return time.Duration(s.number("historyMaxAgeMinutes")) * time.Minute
}

// HistoryCacheBytes bounds the memory the history cache takes.
func (s Settings) HistoryCacheBytes() int64 { return int64(s.number("historyCacheMB")) << 20 }

// QueuePoll is how often the queue drainer reads the CBC queue.
func (s Settings) QueuePoll() time.Duration {
	return time.Duration(s.number("queuePollSeconds")) * time.Second
}

// QueueBackfill is the window searched when the drainer starts, so a restart leaves no gap.
func (s Settings) QueueBackfill() time.Duration {
	return time.Duration(s.number("queueBackfillMinutes")) * time.Minute
}

// EffectiveConcurrency is how many CBC requests one data source runs at once.
func (s Settings) EffectiveConcurrency() int { return s.number("concurrency") }

// EffectiveMaxRecords caps how many records a count query scans.
func (s Settings) EffectiveMaxRecords() int { return s.number("maxRecords") }

// EffectiveRequestBudget is the number of CBC requests allowed per five minutes.
func (s Settings) EffectiveRequestBudget() int { return s.number("requestBudget") }

// EffectiveQueueBufferSize caps how many drained queue records are kept in memory.
func (s Settings) EffectiveQueueBufferSize() int { return s.number("queueBufferSize") }

// QueueBufferAge is how long drained queue events stay in memory.
func (s Settings) QueueBufferAge() time.Duration {
	return time.Duration(s.number("queueBufferHours")) * time.Hour
}

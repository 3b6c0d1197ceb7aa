// Command cbcsim serves a simulated Carbon Black Cloud Audit Log API, for the docker-compose stack, end-to-end
// tests and benchmarks. See docs/simulator.md.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// keyFlags collects repeated -key ID:SECRET[:perm,perm] flags.
type keyFlags []cbcsim.Key

func (k *keyFlags) String() string { return fmt.Sprint(len(*k), " keys") }

func (k *keyFlags) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return errors.New("want ID:SECRET or ID:SECRET:org.audits,jobs.status")
	}
	key := cbcsim.Key{ID: parts[0], Secret: parts[1]}
	if len(parts) == 3 && parts[2] != "" {
		key.Permissions = strings.Split(parts[2], ",")
	}
	*k = append(*k, key)
	return nil
}

// appFlags collects repeated -app CLIENT_ID:SECRET[:perm,perm] flags.
type appFlags []cbcsim.App

func (a *appFlags) String() string { return fmt.Sprint(len(*a), " apps") }

func (a *appFlags) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return errors.New("want CLIENT_ID:SECRET or CLIENT_ID:SECRET:org.audits,jobs.status")
	}
	app := cbcsim.App{ClientID: parts[0], ClientSecret: parts[1]}
	if len(parts) == 3 && parts[2] != "" {
		app.Permissions = strings.Split(parts[2], ",")
	}
	*a = append(*a, app)
	return nil
}

// tokenFlags collects repeated -api-token TOKEN[:perm,perm] flags.
type tokenFlags []cbcsim.APIToken

func (t *tokenFlags) String() string { return fmt.Sprint(len(*t), " API tokens") }

func (t *tokenFlags) Set(v string) error {
	token, perms, _ := strings.Cut(v, ":")
	if len(token) < 8 {
		return errors.New("want TOKEN (8 characters or more) or TOKEN:org.audits,jobs.status")
	}
	api := cbcsim.APIToken{Token: token}
	if perms != "" {
		api.Permissions = strings.Split(perms, ",")
	}
	*t = append(*t, api)
	return nil
}

func main() {
	var (
		cfg       cbcsim.Config
		keys      keyFlags
		apps      appFlags
		tokens    tokenFlags
		addr      = flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
		seed      = flag.Uint64("seed", 1, "generator seed: the same seed gives the same events")
		useTLS    = flag.Bool("tls", false, "serve HTTPS on -addr with a throwaway self-signed certificate")
		httpsAddr = flag.String("https-addr", "", "also serve HTTPS here, over the same data (for clients that refuse http)")
		attacks   = flag.String("scenarios", "", "attack scenarios to add at start, two hours apart over the last day: all, or names separated by commas ("+strings.Join(cbcsim.Scenarios(), ", ")+")")
		redirect  = flag.Bool("download-redirect", false, "answer downloads with 302 to a second listener, another host that serves the file without credentials")
	)
	flag.StringVar(&cfg.OrgKey, "org", "ABCD1234", "org key")
	flag.DurationVar(&cfg.Span, "span", 7*24*time.Hour, "history to generate before now")
	flag.IntVar(&cfg.EventsPerDay, "per-day", 2000, "generated events a day (negative: none)")
	flag.IntVar(&cfg.Records, "records", 0, "generate exactly this many events over -span instead (0: use -per-day)")
	flag.Float64Var(&cfg.LiveRate, "rate", 2, "new events a minute after start (0: none)")
	flag.DurationVar(&cfg.Latency, "latency", 0, "added to every request, to stand for a network")
	flag.DurationVar(&cfg.JobDuration, "job-duration", 3*time.Second, "time an export takes to complete")
	flag.IntVar(&cfg.RateLimit, "rate-limit", 1000, "requests per rate window per source IP (0: unlimited)")
	flag.DurationVar(&cfg.RateWindow, "rate-window", 5*time.Minute, "rate limit window")
	flag.Var(&keys, "key", "API key as ID:SECRET:perm,perm (repeatable; default: the built-in keys)")
	flag.Var(&apps, "app", "OAuth app as CLIENT_ID:SECRET:perm,perm (repeatable; default: the built-in app)")
	flag.Var(&tokens, "api-token", "personal API token as TOKEN:perm,perm (repeatable; default: the built-in tokens)")
	flag.DurationVar(&cfg.TokenTTL, "token-ttl", 30*time.Minute, "lifetime of the access tokens Cloud Services issues")
	flag.Float64Var(&cfg.SparseShare, "sparse", 0.1, "share of generated events written without false booleans or an empty request_url (negative: none)")
	flag.Float64Var(&cfg.WholeSeconds, "whole-seconds", 0.05, "share of generated events whose time has no fraction of a second (negative: none)")
	// The real API's undocumented behaviours, one flag each (docs/operations.md).
	flag.Float64Var(&cfg.LateShare, "late-share", 0, "share of events that search finds only -late-by after their create_time (0: none)")
	flag.DurationVar(&cfg.LateBy, "late-by", 15*time.Minute, "how late the -late-share events become searchable")
	flag.StringVar(&cfg.Traffic, "traffic", "mixed", "what the events are: mixed (password-guessing bursts and days away among ordinary work) or org (an organisation with no attack in it, the security signals' baseline)")
	flag.StringVar(&cfg.DefaultSort, "default-sort", "desc", "order of a search that sends no sort: asc or desc")
	flag.BoolVar(&cfg.EndExclusive, "end-exclusive", false, "create_time.end leaves out its own millisecond")
	flag.StringVar(&cfg.QueueOrder, "queue-order", "oldest", "which events a queue read takes and how it lists them: oldest (first) or newest (first)")
	flag.StringVar(&cfg.NumAvailable, "num-available", "before", "what a queue answer's num_available counts: the backlog before the read or after it")
	flag.BoolVar(&cfg.RefuseEmptyRange, "refuse-empty-range", false, "refuse a create_time criterion whose start and end are the same instant with 400")
	flag.IntVar(&cfg.MaxRows, "max-rows", 10000, "the largest page a search serves; a larger rows is refused with 400")
	flag.StringVar(&cfg.JobParams, "job-params", "null", "what a job lists as its job_parameters: null, as CBC's own jobs do, or echo the export's parameters")
	flag.BoolVar(&cfg.StrictAccept, "strict-accept", false, "a download answers 406 unless its Accept header takes the file's type")
	flag.StringVar(&cfg.CSPBasic, "csp-basic", "raw", "how Cloud Services reads an OAuth app's client ID and secret: raw or urlencoded in HTTP Basic, or body")
	flag.BoolVar(&cfg.AbsentFalse, "absent-false", false, "a record that leaves out flagged or verbose matches :false (default: neither, as a field that is not indexed)")
	flag.BoolVar(&cfg.RefuseUnknown, "refuse-unknown-fields", false, "refuse a query that names an unknown field with 400 (default: it matches nothing, as Elasticsearch does)")
	flag.BoolVar(&cfg.CapNumFound, "cap-num-found", false, "num_found stops at 10000")
	flag.DurationVar(&cfg.JobVisibleAfter, "job-visible-after", 0, "a new export job answers 404 until this has passed")
	flag.IntVar(&cfg.WrongOrgStatus, "wrong-org-status", 404, "status for a request to another org: 403 or 404")
	flag.Parse()
	if d := strings.ToLower(cfg.DefaultSort); d != "asc" && d != "desc" {
		fatal(fmt.Errorf("-default-sort takes asc or desc, not %q", cfg.DefaultSort))
	}
	if cfg.QueueOrder != "oldest" && cfg.QueueOrder != "newest" {
		fatal(fmt.Errorf("-queue-order takes oldest or newest, not %q", cfg.QueueOrder))
	}
	if cfg.NumAvailable != "before" && cfg.NumAvailable != "after" {
		fatal(fmt.Errorf("-num-available takes before or after, not %q", cfg.NumAvailable))
	}
	if cfg.JobParams != "null" && cfg.JobParams != "echo" {
		fatal(fmt.Errorf("-job-params takes null or echo, not %q", cfg.JobParams))
	}
	if cfg.CSPBasic != "raw" && cfg.CSPBasic != "urlencoded" && cfg.CSPBasic != "body" {
		fatal(fmt.Errorf("-csp-basic takes raw, urlencoded or body, not %q", cfg.CSPBasic))
	}
	if cfg.Traffic != "mixed" && cfg.Traffic != cbcsim.TrafficOrg {
		fatal(fmt.Errorf("-traffic takes mixed or org, not %q", cfg.Traffic))
	}
	if cfg.WrongOrgStatus != 403 && cfg.WrongOrgStatus != 404 {
		fatal(fmt.Errorf("-wrong-org-status takes 403 or 404, not %d", cfg.WrongOrgStatus))
	}
	cfg.Seed = *seed
	if len(keys) > 0 {
		cfg.Keys = keys
	}
	if len(apps) > 0 {
		cfg.Apps = apps
	}
	if len(tokens) > 0 {
		cfg.APITokens = tokens
	}

	var files net.Listener
	if *redirect {
		host, _, err := net.SplitHostPort(*addr)
		if err != nil {
			fatal(err)
		}
		if files, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			fatal(err)
		}
		cfg.DownloadRedirect = "http://" + files.Addr().String()
	}

	sim := cbcsim.New(cfg)
	defer sim.Close()
	if err := addScenarios(sim, *attacks); err != nil {
		fatal(err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if files != nil {
		fileSrv := &http.Server{Handler: sim.FileHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = fileSrv.Serve(files) }()
		fmt.Fprintf(os.Stderr, "cbcsim serves redirected downloads on %s\n", cfg.DownloadRedirect)
	}
	type listener struct {
		addr   string
		secure bool
	}
	listeners := []listener{{*addr, *useTLS}}
	if *httpsAddr != "" {
		listeners = append(listeners, listener{*httpsAddr, true})
	}
	served := make(chan error, len(listeners))
	for _, l := range listeners {
		ln, url, err := listen(l.addr, l.secure)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("cbcsim listening on %s (org %s, %d records)\n", url, sim.OrgKey(), len(sim.Records()))
		go func() { served <- srv.Serve(ln) }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	case err := <-served:
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "cbcsim:", err)
	os.Exit(1)
}

// listen opens addr, wrapped in TLS with a throwaway certificate when secure, and returns the URL it serves.
func listen(addr string, secure bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	if !secure {
		return ln, "http://" + ln.Addr().String(), nil
	}
	cert, err := selfSignedCert()
	if err != nil {
		_ = ln.Close()
		return nil, "", err
	}
	ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return ln, "https://" + ln.Addr().String(), nil
}

// addScenarios adds the named attacks (all: every one), the last an hour ago and each other two hours before
// the next, and says what each must be found as.
func addScenarios(sim *cbcsim.Simulator, names string) error {
	if names == "" {
		return nil
	}
	chosen := strings.Split(names, ",")
	if names == "all" {
		chosen = cbcsim.Scenarios()
	}
	for i, name := range chosen {
		at := time.Now().Add(-time.Hour - time.Duration(len(chosen)-1-i)*2*time.Hour)
		truth, err := sim.Attack(strings.TrimSpace(name), at)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "cbcsim added scenario %s: %s finds %s between %s and %s\n", truth.Scenario, truth.Detection, truth.Entity,
			truth.From.Format(time.RFC3339), truth.To.Format(time.RFC3339))
	}
	return nil
}

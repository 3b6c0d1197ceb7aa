// Command cbcsim serves a simulated Carbon Black Cloud Audit Log API, for the docker-compose stack, end-to-end
// tests and benchmarks. See the README, "The simulator".
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

func main() {
	var (
		cfg       cbcsim.Config
		keys      keyFlags
		addr      = flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
		seed      = flag.Uint64("seed", 1, "generator seed: the same seed gives the same events")
		useTLS    = flag.Bool("tls", false, "serve HTTPS on -addr with a throwaway self-signed certificate")
		httpsAddr = flag.String("https-addr", "", "also serve HTTPS here, over the same data (for clients that refuse http)")
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
	flag.Parse()
	cfg.Seed = *seed
	if len(keys) > 0 {
		cfg.Keys = keys
	}

	sim := cbcsim.New(cfg)
	defer sim.Close()
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
			fmt.Fprintln(os.Stderr, "cbcsim:", err)
			os.Exit(1)
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
		fmt.Fprintln(os.Stderr, "cbcsim:", err)
		os.Exit(1)
	}
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
		ln.Close()
		return nil, "", err
	}
	ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return ln, "https://" + ln.Addr().String(), nil
}

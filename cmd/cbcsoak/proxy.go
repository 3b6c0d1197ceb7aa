package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Kinds of fault the proxy injects, each before or after CBC acted on the request.
const (
	fault429      = "429 before CBC acted"
	fault503      = "503 before CBC acted"
	faultTimeout  = "answer after the client's timeout"
	faultReset    = "reset after CBC acted"
	faultCutShort = "body cut short"
	fault504      = "504 after CBC acted"
)

var faultKinds = []string{fault429, fault503, faultTimeout, faultReset, faultCutShort, fault504}

// faultProxy stands between the plugin and the simulator and spoils a share of the requests, counting what
// it did; it also counts the 429s the simulator itself answered, which only the plugin's own pace can cause.
type faultProxy struct {
	target  string
	rate    float64
	timeout time.Duration // the plugin's request timeout: a late answer comes after it

	mu       sync.Mutex
	rng      *rand.Rand
	injected map[string]int
	own429   int
	requests int
}

func newFaultProxy(target string, rate float64, timeout time.Duration) *faultProxy {
	return &faultProxy{target: target, rate: rate, timeout: timeout, rng: rand.New(rand.NewPCG(7, 11)), injected: map[string]int{}}
}

// pick decides the fate of one request: "" to pass it through.
func (p *faultProxy) pick() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rng.Float64() >= p.rate {
		return ""
	}
	kind := faultKinds[p.rng.IntN(len(faultKinds))]
	p.injected[kind]++
	return kind
}

func (p *faultProxy) counts() (injected map[string]int, own429, requests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	injected = map[string]int{}
	for k, v := range p.injected {
		injected[k] = v
	}
	return injected, p.own429, p.requests
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := p.pick()
	switch kind {
	case fault429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error_code":"TOO_MANY_REQUESTS","message":"injected"}`, http.StatusTooManyRequests)
		return
	case fault503:
		http.Error(w, `{"error_code":"SERVICE_UNAVAILABLE","message":"injected"}`, http.StatusServiceUnavailable)
		return
	case faultTimeout:
		time.Sleep(p.timeout + 500*time.Millisecond) // then CBC acts, after the client gave up
	}
	status, header, body, err := p.forward(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if status == http.StatusTooManyRequests {
		p.mu.Lock()
		p.own429++
		p.mu.Unlock()
	}
	switch kind {
	case faultReset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	case fault504:
		http.Error(w, `{"error_code":"GATEWAY_TIMEOUT","message":"injected"}`, http.StatusGatewayTimeout)
		return
	case faultCutShort:
		header.Set("Content-Length", strconv.Itoa(len(body)))
		body = body[:len(body)/2]
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// forward sends the request on to the simulator and reads the whole answer.
func (p *faultProxy) forward(r *http.Request) (int, http.Header, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Clone(), answer, err
}

// start serves the proxy on a free local port.
func (p *faultProxy) start() *httptest.Server { return httptest.NewServer(p) }

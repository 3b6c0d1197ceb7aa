package cbcsim

import (
	"math"
	"math/rand/v2"
	"time"
)

// generator makes realistic audit events from a seed: the same seed and config give the same events.
type generator struct {
	rng          *rand.Rand
	shape        *rand.Rand // how an event is written (sparse, whole seconds), apart from what it says
	where        *rand.Rand // whether a user works from the office or from home, apart from what they do
	orgKey, host string
	sparseShare  float64
	wholeSeconds float64
	org          bool // TrafficOrg: an organisation with no attack in it
}

func newGenerator(seed uint64, cfg Config) *generator {
	return &generator{
		rng:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), // #nosec G404 -- generated events must repeat from a seed
		shape:        rand.New(rand.NewPCG(seed^0x5bd1e995, seed)),         // #nosec G404 -- likewise
		where:        rand.New(rand.NewPCG(seed^0x2545f491, seed+1)),       // #nosec G404 -- likewise
		orgKey:       cfg.OrgKey,
		host:         cfg.Host,
		sparseShare:  cfg.SparseShare,
		wholeSeconds: cfg.WholeSeconds,
		org:          cfg.Traffic == TrafficOrg,
	}
}

// shaped writes a share of events as forwarders do (no false booleans, no empty request_url) and a share with
// times in whole seconds, as CBC's own examples show both.
func (g *generator) shaped(e Event) Event {
	e.Sparse = g.shape.Float64() < g.sparseShare
	if g.shape.Float64() < g.wholeSeconds {
		e.CreateTime = e.CreateTime.Truncate(time.Second)
	}
	return e
}

var (
	// users sign in from the office (documentation addresses, which no GeoIP database places) or from home:
	// public addresses that DB-IP's free City database places in the country named beside each.
	users = []struct{ email, ip, home string }{
		{"alice.admin@acme.example", "203.0.113.10", "80.133.45.10"}, // DE, Wuppertal
		{"bob.analyst@acme.example", "203.0.113.24", "86.12.44.3"},   // GB, Southampton
		{"carol.soc@acme.example", "198.51.100.7", "73.162.14.20"},   // US, Fairfield
		{"dave.ops@acme.example", "198.51.100.33", "90.45.12.7"},     // FR, Lille
		{"erin.ir@acme.example", "192.0.2.45", "153.206.11.5"},       // JP, Yokohama
		{"frank.audit@acme.example", "192.0.2.81", "24.114.33.9"},    // CA, Toronto
	}
	// travel is where a user signs in from on a day away: BR, IN, AU and SG.
	travel     = []string{"177.92.3.10", "49.36.200.11", "110.33.45.2", "89.187.163.5"}
	connectors = []struct{ name, id, ip string }{
		{"Splunk forwarder", "KX7Q2M9RTA", "10.20.0.15"},
		{"SIEM export", "P4N8D2WZLE", "10.20.0.16"},
		{"Grafana", "G7R4F2AN9B", "10.20.0.40"},
	}
	attackerIPs  = []string{"45.155.205.233", "185.220.101.4", "91.240.118.172"}
	guessedUsers = []string{"admin@acme.example", "root@acme.example", "alice.admin@acme.example", "test@acme.example"}
	policies     = []string{"Standard", "Advanced", "Monitored", "Servers - Strict", "Developers"}
	roles        = []string{"Analyst", "Administrator", "Live Response Analyst", "Read Only"}
	devices      = []string{"WIN-FIN-0142", "MAC-ENG-0077", "SRV-DB-02", "WIN-HR-0311"}
	reports      = []string{"'MCRN threat feed'", "'Reported by DOP'", "'Malware SSL Certificate Fingerprint'"}
	consolePages = []string{"/settings/users", "/settings/api-access", "/policies", "/live-response", "/settings/connectors"}
)

// eventAt makes one event at t, drawn from a mix that resembles a working org: mostly logins and connector
// traffic, some administration, and rare security-relevant changes.
func (g *generator) eventAt(t time.Time) Event {
	if g.org {
		return g.orgEventAt(t)
	}
	user := g.rng.IntN(len(users))
	u := users[user]
	c := connectors[g.rng.IntN(len(connectors))]
	rec := Event{CreateTime: t.UTC().Truncate(time.Millisecond), OrgKey: g.orgKey, Actor: u.email, ActorIP: g.addressOf(user, t)}
	page := func() string { return g.host + consolePages[g.rng.IntN(len(consolePages))] }
	switch roll := g.rng.IntN(1000); {
	case roll < 300:
		rec.Description = "Logged in successfully"
	case roll < 520:
		rec.Actor, rec.ActorIP = c.id, c.ip
		rec.Description = connectorSignedIn(c.id)
		rec.Verbose = true
	case roll < 600:
		rec.Description = "Logged out"
	case roll < 640:
		rec.Description = loginFailed(u.email)
		rec.Flagged = true
	case roll < 700:
		rec.Description = connectorUpdated(c.name, c.id)
		rec.RequestURL = page()
	case roll < 715:
		rec.Description = g.keyCreated(c.name)
		rec.Flagged = true
		rec.RequestURL = page()
	case roll < 725:
		rec.Description = g.keyDeleted()
		rec.Flagged = true
		rec.RequestURL = page()
	case roll < 760:
		rec.Description = g.roleChanged(roles)
		rec.Flagged = true
	case roll < 775:
		rec.Description = g.userAdded(roles)
	case roll < 850:
		rec.Description = g.policyUpdated()
		rec.RequestURL = page()
	case roll < 860:
		rec.Description = policyDeleted(g.pick(policies))
		rec.Flagged = true
	case roll < 910:
		rec.Description = g.liveResponse("Started")
		rec.Flagged = true
	case roll < 960:
		rec.Description = g.liveResponse("Ended")
	default:
		rec.Description = g.reportUpdated()
	}
	return g.shaped(rec)
}

// travelShare is about how many days a user spends away: one in fifteen.
const travelShare = 15

// addressOf is where a user acts from at t. On a day away, chosen by the user and the day alone, every
// event comes from one of the travel addresses; otherwise a little under half come from home.
func (g *generator) addressOf(user int, t time.Time) string {
	day := t.UTC().Unix() / 86400
	if away := (day*2654435761 + int64(user)*40503) % 1000003; away%travelShare == 0 {
		return travel[(away/travelShare)%int64(len(travel))]
	}
	if g.where.Float64() < 0.45 {
		return users[user].home
	}
	return users[user].ip
}

// failedLoginBurst is a password-guessing run from one outside IP: n failures a few seconds apart.
func (g *generator) failedLoginBurst(start time.Time, n int) []Event {
	ip := attackerIPs[g.rng.IntN(len(attackerIPs))]
	t := start
	out := make([]Event, 0, n)
	for range n {
		victim := guessedUsers[g.rng.IntN(len(guessedUsers))]
		out = append(out, g.shaped(Event{
			CreateTime:  t.UTC().Truncate(time.Millisecond),
			OrgKey:      g.orgKey,
			Actor:       victim,
			ActorIP:     ip,
			Description: loginFailed(victim),
			Flagged:     true,
		}))
		t = t.Add(time.Duration(500+g.rng.IntN(4000)) * time.Millisecond)
	}
	return out
}

func (g *generator) keyID() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// history makes about perDay events a day over [from, to), oldest first: arrivals are random (exponential gaps)
// and, but in the org traffic, about one event in 200 starts a burst of failed logins.
func (g *generator) history(from, to time.Time, perDay int) []Event {
	if perDay <= 0 || !from.Before(to) {
		return nil
	}
	meanGap := float64(24*time.Hour) / float64(perDay)
	want := int(float64(to.Sub(from)) / meanGap)
	out := make([]Event, 0, want+want/20)
	t := from
	for {
		t = t.Add(time.Duration(g.rng.ExpFloat64() * meanGap))
		if !t.Before(to) {
			break
		}
		if !g.org && g.rng.IntN(200) == 0 {
			for _, r := range g.failedLoginBurst(t, 5+g.rng.IntN(25)) {
				if r.CreateTime.Before(to) {
					out = append(out, r)
				}
			}
			continue
		}
		out = append(out, g.eventAt(t))
	}
	return out
}

// exactHistory makes exactly n events over [from, to), oldest first: a history a little denser than needed,
// thinned by dropping randomly chosen events, so the mix and the bursts look like history's.
func (g *generator) exactHistory(from, to time.Time, n int) []Event {
	days := to.Sub(from).Hours() / 24
	if n <= 0 || days <= 0 {
		return nil
	}
	density := 1.1
	out := g.history(from, to, int(math.Ceil(float64(n)/days*density)))
	for len(out) < n {
		density *= 1.5
		out = g.history(from, to, int(math.Ceil(float64(n)/days*density)))
	}
	drop := make([]bool, len(out))
	for _, i := range g.rng.Perm(len(out))[:len(out)-n] {
		drop[i] = true
	}
	kept := out[:0]
	for i, r := range out {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	return kept
}

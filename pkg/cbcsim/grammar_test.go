package cbcsim_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// grammarNow is the simulator's clock in these tests: its history ends here, and "now" in a query means it.
var grammarNow = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

func day(d int) time.Time { return time.Date(2024, 4, d, 0, 0, 0, 0, time.UTC) }

// words is a brute-force reading of a description's words: the text lower-cased, cut into runs of letters and
// digits. Descriptions repeat, so each is read once.
var (
	wordPattern = regexp.MustCompile(`[\pL\pN]+`)
	wordCache   = map[string][]string{}
)

func words(text string) []string {
	ws, found := wordCache[text]
	if !found {
		ws = wordPattern.FindAllString(strings.ToLower(text), -1)
		wordCache[text] = ws
	}
	return ws
}

func hasWord(text, word string) bool {
	return slices.Contains(words(text), word)
}

func anyWord(text string, match func(string) bool) bool {
	for _, w := range words(text) {
		if match(w) {
			return true
		}
	}
	return false
}

// editDistance is the optimal string alignment distance, computed over the full table.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			sub := 1
			if ra[i-1] == rb[j-1] {
				sub = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+sub)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// anyField is what a value without a field searches: the description's words and the keyword fields' whole values.
func anyField(e cbcsim.Event, word string) bool {
	return hasWord(e.Description, word) || strings.EqualFold(e.Actor, word) || strings.EqualFold(e.ActorIP, word) ||
		strings.EqualFold(e.RequestURL, word) || strings.EqualFold(e.OrgKey, word)
}

// grammar holds, for every example of the README's query language table, what it must match: written by hand
// over the generated events, sharing nothing with the simulator's parser or matcher. none marks the examples
// that must match nothing.
var grammar = map[string]struct {
	match func(e cbcsim.Event) bool
	none  bool
}{
	`failed`:                {match: func(e cbcsim.Event) bool { return anyField(e, "failed") }},
	`45.155.205.233`:        {match: func(e cbcsim.Event) bool { return anyField(e, "45.155.205.233") }},
	`description:failed`:    {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "failed") }},
	`description:Logged in`: {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "logged") && anyField(e, "in") }},
	`description:"login failed"`: {match: func(e cbcsim.Event) bool {
		return strings.Contains(strings.Join(words(e.Description), " "), "login failed")
	}},
	`description:"failed login"~2`: {match: func(e cbcsim.Event) bool {
		ws := words(e.Description)
		for i := range ws {
			window := strings.Join(ws[i:min(len(ws), i+4)], " ")
			if hasWord(window, "failed") && hasWord(window, "login") {
				return true
			}
		}
		return false
	}},
	`actor:alice.admin@acme.example`: {match: func(e cbcsim.Event) bool { return e.Actor == "alice.admin@acme.example" }},
	`actor:ALICE.ADMIN@acme.example`: {match: func(e cbcsim.Event) bool { return e.Actor == "alice.admin@acme.example" }},
	`actor:alice`:                    {none: true, match: func(e cbcsim.Event) bool { return strings.EqualFold(e.Actor, "alice") }},
	`actor:alice*`:                   {match: func(e cbcsim.Event) bool { return strings.HasPrefix(strings.ToLower(e.Actor), "alice") }},
	`actor_ip:192.0.2.4?`: {match: func(e cbcsim.Event) bool {
		return len(e.ActorIP) == len("192.0.2.4x") && strings.HasPrefix(e.ActorIP, "192.0.2.4")
	}},
	`description:log*`: {match: func(e cbcsim.Event) bool {
		return anyWord(e.Description, func(w string) bool { return strings.HasPrefix(w, "log") })
	}},
	`actor:/[a-c].*@acme\.example/`: {match: func(e cbcsim.Event) bool {
		return strings.HasSuffix(e.Actor, "@acme.example") && strings.ContainsAny(e.Actor[:1], "abc")
	}},
	`description:/sess.*/`: {match: func(e cbcsim.Event) bool {
		return anyWord(e.Description, func(w string) bool { return strings.HasPrefix(w, "sess") })
	}},
	`description:loged~1`: {match: func(e cbcsim.Event) bool {
		return anyWord(e.Description, func(w string) bool { return editDistance(w, "loged") <= 1 })
	}},
	`actor:bob.analist@acme.example~`: {match: func(e cbcsim.Event) bool {
		return editDistance(strings.ToLower(e.Actor), "bob.analist@acme.example") <= 2
	}},
	`flagged:true AND actor_ip:45.155.205.233`: {match: func(e cbcsim.Event) bool { return e.Flagged && e.ActorIP == "45.155.205.233" }},
	`flagged:true && verbose:false`:            {match: func(e cbcsim.Event) bool { return e.Flagged && !e.Verbose }},
	`actor:bob.analyst@acme.example OR actor:carol.soc@acme.example`: {match: func(e cbcsim.Event) bool {
		return e.Actor == "bob.analyst@acme.example" || e.Actor == "carol.soc@acme.example"
	}},
	`actor_ip:10.20.0.15 || actor_ip:10.20.0.16`: {match: func(e cbcsim.Event) bool { return e.ActorIP == "10.20.0.15" || e.ActorIP == "10.20.0.16" }},
	`NOT flagged:true`:                           {match: func(e cbcsim.Event) bool { return !e.Flagged }},
	`!actor:alice.admin@acme.example`:            {match: func(e cbcsim.Event) bool { return e.Actor != "alice.admin@acme.example" }},
	`-description:logged`:                        {match: func(e cbcsim.Event) bool { return !hasWord(e.Description, "logged") }},
	`+description:policy +flagged:true`:          {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "policy") && e.Flagged }},
	`description:policy flagged:false`:           {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "policy") && !e.Flagged }},
	`(description:login OR description:logged) AND NOT actor_ip:45.155.205.233`: {match: func(e cbcsim.Event) bool {
		return (hasWord(e.Description, "login") || hasWord(e.Description, "logged")) && e.ActorIP != "45.155.205.233"
	}},
	`actor:(alice.admin@acme.example OR bob.analyst@acme.example)`: {match: func(e cbcsim.Event) bool {
		return e.Actor == "alice.admin@acme.example" || e.Actor == "bob.analyst@acme.example"
	}},
	`description:(started OR ended)`:         {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "started") || hasWord(e.Description, "ended") }},
	`create_time:2024-04-16`:                 {match: func(e cbcsim.Event) bool { return !e.CreateTime.Before(day(16)) && e.CreateTime.Before(day(17)) }},
	`create_time:[2024-04-15 TO 2024-04-16]`: {match: func(e cbcsim.Event) bool { return !e.CreateTime.Before(day(15)) && e.CreateTime.Before(day(17)) }},
	`create_time:{2024-04-14 TO 2024-04-16}`: {match: func(e cbcsim.Event) bool { return !e.CreateTime.Before(day(15)) && e.CreateTime.Before(day(16)) }},
	`create_time:[2024-04-16T12:00:00Z TO *]`: {match: func(e cbcsim.Event) bool {
		return !e.CreateTime.Before(day(16).Add(12 * time.Hour))
	}},
	`create_time:>=now-1d`:    {match: func(e cbcsim.Event) bool { return !e.CreateTime.Before(grammarNow.Add(-24 * time.Hour)) }},
	`create_time:<2024-04-12`: {match: func(e cbcsim.Event) bool { return e.CreateTime.Before(day(12)) }},
	`create_time:>=now/d`:     {match: func(e cbcsim.Event) bool { return !e.CreateTime.Before(day(17)) }},
	`create_time:>1713300000000`: {match: func(e cbcsim.Event) bool {
		return e.CreateTime.After(time.UnixMilli(1713300000000))
	}},
	`actor_ip:[192.0.2.0 TO 192.0.2.99]`:   {match: func(e cbcsim.Event) bool { return e.ActorIP >= "192.0.2.0" && e.ActorIP <= "192.0.2.99" }},
	`_exists_:request_url`:                 {match: func(e cbcsim.Event) bool { return e.RequestURL != "" }},
	`request_url:*`:                        {match: func(e cbcsim.Event) bool { return e.RequestURL != "" }},
	`*:*`:                                  {match: func(cbcsim.Event) bool { return true }},
	`*`:                                    {match: func(cbcsim.Event) bool { return true }},
	`description:policy^2 OR flagged:true`: {match: func(e cbcsim.Event) bool { return hasWord(e.Description, "policy") || e.Flagged }},
	`request_url:https\:\/\/defense.conferdeploy.net\/policies`: {match: func(e cbcsim.Event) bool {
		return e.RequestURL == "https://defense.conferdeploy.net/policies"
	}},
	`request_url:"https://defense.conferdeploy.net/policies"`: {match: func(e cbcsim.Event) bool {
		return e.RequestURL == "https://defense.conferdeploy.net/policies"
	}},
	`verbose:true`:     {match: func(e cbcsim.Event) bool { return e.Verbose }},
	`org_key:abcd1234`: {match: func(e cbcsim.Event) bool { return e.OrgKey == "ABCD1234" }},
	`description:"api key"`: {match: func(e cbcsim.Event) bool {
		return strings.Contains(strings.Join(words(e.Description), " "), "api key")
	}},
}

// readmeGrammar reads the examples of the README's query language table: the second column's code.
func readmeGrammar(t *testing.T) []string {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "<!-- grammar -->")
	end := strings.Index(text, "<!-- /grammar -->")
	if start < 0 || end < start {
		t.Fatal("the README has no <!-- grammar --> table")
	}
	var examples []string
	for _, line := range strings.Split(text[start:end], "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		example := strings.TrimSpace(cells[1])
		example = strings.TrimSuffix(strings.TrimPrefix(example, "`"), "`")
		example = strings.ReplaceAll(example, `\|`, "|")
		examples = append(examples, example)
	}
	return examples
}

// Every construct of the README's grammar table matches exactly what its brute-force reading over the
// generated events says.
func TestGrammarTable(t *testing.T) {
	sim := cbcsim.New(cbcsim.Config{Seed: 1, EventsPerDay: 3000, Now: func() time.Time { return grammarNow }})
	all := sim.Records()
	examples := readmeGrammar(t)
	documented := map[string]bool{}
	for _, example := range examples {
		documented[example] = true
		want, found := grammar[example]
		if !found {
			t.Errorf("README example %q has no brute-force reading in this test", example)
			continue
		}
		body, _ := json.Marshal(map[string]any{"query": example, "sort": []map[string]string{{"field": "create_time", "order": "ASC"}}})
		got, err := sim.Match(body)
		if err != nil {
			t.Errorf("%s: %v", example, err)
			continue
		}
		var truth []cbcsim.Event
		for _, e := range all {
			if want.match(e) {
				truth = append(truth, e)
			}
		}
		if len(truth) == 0 && !want.none {
			t.Errorf("%s: nothing in the generated events matches it, so the test proves nothing", example)
		}
		if len(got) != len(truth) {
			t.Errorf("%s: %d matches, brute force finds %d", example, len(got), len(truth))
			continue
		}
		for i := range got {
			if got[i] != truth[i] {
				t.Errorf("%s: match %d is %+v, brute force has %+v", example, i, got[i], truth[i])
				break
			}
		}
	}
	for example := range grammar {
		if !documented[example] {
			t.Errorf("%q is tested but not in the README's table", example)
		}
	}
}

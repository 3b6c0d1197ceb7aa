package cbcsim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// The Lucene differential test: the simulator's answers against Apache Lucene itself. tests/lucene holds a
// small Java program that indexes the same records with the mapping of docs/query-language.md and parses each query with
// Lucene's classic query parser plus the rules Elasticsearch's query_string adds. Every query must get the
// same verdict (hits, a syntax error, or a query refused for what it asks) and the same hits.

const (
	referenceDir = "../../tests/lucene"
	// generatedQueries is how many queries the seeded generator adds to the hand-written ones.
	generatedQueries = 300
)

// referenceAllowlist holds the queries where the simulator may disagree with Lucene, each for a reason the
// docs/query-language.md gives.
var referenceAllowlist = map[string]string{}

var referenceNow = time.Date(2024, 4, 17, 20, 0, 0, 0, time.UTC)

func TestAgreesWithLucene(t *testing.T) {
	classpath := referenceClasspath(t)
	corpus := referenceCorpus(t)
	// The modes of the unknowns run the queries they can change.
	for _, mode := range []struct {
		name          string
		absentFalse   bool
		refuseUnknown bool
		affects       func(query string) bool
	}{
		{name: "as Elasticsearch", affects: func(string) bool { return true }},
		{name: "absent booleans are false", absentFalse: true, affects: regexp.MustCompile(`flagged|verbose|_exists_`).MatchString},
		{name: "unknown fields refused", refuseUnknown: true, affects: namesUnknownField},
	} {
		t.Run(mode.name, func(t *testing.T) {
			corpus := slices.DeleteFunc(slices.Clone(corpus), func(q string) bool { return !mode.affects(q) })
			sim := cbcsim.New(cbcsim.Config{Now: func() time.Time { return referenceNow }, Seed: 24, Span: 7 * 24 * time.Hour,
				Records: 4000, AbsentFalse: mode.absentFalse, RefuseUnknown: mode.refuseUnknown})
			defer sim.Close()
			sim.Inject(edgeRecords()...)
			records := allRecords(t, sim)
			answers, parses := runLucene(t, classpath, records, corpus, mode.absentFalse, mode.refuseUnknown)
			agree := 0
			for i, q := range corpus {
				got := simulatorAnswer(sim, records, q)
				if got == answers[i] {
					agree++
					continue
				}
				if reason, ok := referenceAllowlist[q]; ok {
					t.Logf("%q disagrees, allowed: %s", q, reason)
					continue
				}
				t.Errorf("%q:\n simulator %s\n    lucene %s", q, summary(got), summary(answers[i]))
			}
			t.Logf("%d of %d queries agree with Lucene", agree, len(corpus))
			if !mode.absentFalse && !mode.refuseUnknown {
				checkVerdicts(t, corpus, parses)
				checkReadmeExamples(t, corpus, answers)
			}
		})
	}
}

var fieldPrefix = regexp.MustCompile(`([\w.]+):`)

func namesUnknownField(q string) bool {
	for _, m := range fieldPrefix.FindAllStringSubmatch(q, -1) {
		switch m[1] {
		case "actor", "actor_ip", "create_time", "description", "flagged", "org_key", "request_url", "verbose", "https":
		default:
			return true
		}
	}
	return strings.Contains(q, "_exists_:")
}

// referenceClasspath finds the built Java program. CI builds it (LUCENE_REQUIRED=1 makes its absence a failure);
// elsewhere the test skips without it.
func referenceClasspath(t *testing.T) string {
	classes := filepath.Join(referenceDir, "target", "classes")
	if _, err := os.Stat(filepath.Join(classes, "cbc", "lucene", "Reference.class")); err != nil {
		if os.Getenv("LUCENE_REQUIRED") != "" {
			t.Fatalf("the Lucene reference is not built: run mvn -q -B package in %s", referenceDir)
		}
		t.Skipf("the Lucene reference is not built (mvn -q -B package in %s)", referenceDir)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("no java")
	}
	return classes + string(os.PathListSeparator) + filepath.Join(referenceDir, "target", "lib", "*")
}

// referenceCorpus is the hand-written queries, the grammar examples of docs/query-language.md and the generated ones, each once.
func referenceCorpus(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(referenceDir, "queries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []string
	seen := map[string]bool{}
	add := func(q string) {
		if strings.TrimSpace(q) != "" && !seen[q] {
			seen[q] = true
			corpus = append(corpus, q)
		}
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			add(line)
		}
	}
	for _, row := range readGrammarTable(t) {
		add(row.example)
	}
	rng := rand.New(rand.NewPCG(24, 2024))
	for range generatedQueries {
		add(generateQuery(rng, 0))
	}
	return corpus
}

// edgeRecords are events the generator does not make: on the edges of words, dates and booleans.
func edgeRecords() []cbcsim.Event {
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm }
	return []cbcsim.Event{
		{Actor: "alice.admin@acme.example", ActorIP: "203.0.113.10", CreateTime: at("2024-04-16T00:00:00Z"), Description: "Logged in as alice.admin@acme.example", OrgKey: "ABCD1234"},
		{Actor: "alice.admin@acme.example", ActorIP: "203.0.113.10", CreateTime: at("2024-04-16T23:59:59.999Z"), Description: "Logged out", OrgKey: "ABCD1234"},
		{Actor: "Bob.Analyst@acme.example", ActorIP: "203.0.113.24", CreateTime: at("2024-04-01T00:00:00Z"), Description: "successfully logged key api", OrgKey: "ABCD1234", Sparse: true},
		{Actor: "bob.analyst@acme.example", ActorIP: "203.0.113.24", CreateTime: at("2024-04-01T23:59:59.999Z"), Description: "Session session Live Response live", OrgKey: "ABCD1234", Sparse: true, Flagged: true},
		{Actor: "dave.ops@acme.example", ActorIP: "198.51.100.33", CreateTime: at("2024-04-17T00:00:00Z"), Description: "Logged in successfully", OrgKey: "ABCD1234", Verbose: true},
		{Actor: "dave.ops@acme.example", ActorIP: "198.51.100.33", CreateTime: at("2024-04-14T23:59:59.999Z"), Description: "Login failed for user dave.ops@acme.example, out of hours", OrgKey: "ABCD1234"},
	}
}

func allRecords(t *testing.T, sim *cbcsim.Simulator) []cbcsim.Event {
	t.Helper()
	all, err := sim.Match([]byte(`{"sort": [{"field": "create_time", "order": "ASC"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func recordKey(e cbcsim.Event) string {
	b, _ := json.Marshal(e)
	return string(b)
}

// answer is one verdict with its hits, as "ok <sorted record keys>", "syntax" or "refused".
type answer = string

func hitsAnswer(keys []string) answer {
	slices.Sort(keys)
	return "ok " + strings.Join(keys, "\n")
}

func summary(a answer) string {
	if !strings.HasPrefix(a, "ok ") {
		return a
	}
	n := strings.Count(a, "\n") + 1
	if a == "ok " {
		n = 0
	}
	return fmt.Sprintf("%d hits", n)
}

func simulatorAnswer(sim *cbcsim.Simulator, records []cbcsim.Event, q string) answer {
	body, _ := json.Marshal(map[string]string{"query": q})
	hits, err := sim.Match(body)
	if err != nil {
		if strings.HasPrefix(err.Error(), "Failed to parse query") {
			return "syntax"
		}
		return "refused"
	}
	keys := make([]string, len(hits))
	for i, h := range hits {
		keys[i] = recordKey(h)
	}
	return hitsAnswer(keys)
}

// runLucene writes the records and the queries for the Java program and reads its answers, and whether each
// query parses at all (a query refused for a value may still have a syntax error further on).
func runLucene(t *testing.T, classpath string, records []cbcsim.Event, corpus []string, absentFalse, refuseUnknown bool) ([]answer, []bool) {
	t.Helper()
	dir := t.TempDir()
	var rec bytes.Buffer
	keys := make([]string, len(records))
	for i, e := range records {
		keys[i] = recordKey(e)
		flag := func(v bool) string {
			if e.Sparse && !v {
				return ""
			}
			return strconv.FormatBool(v)
		}
		fmt.Fprintf(&rec, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", i, e.Actor, e.ActorIP, e.CreateTime.UnixMilli(),
			e.Description, flag(e.Flagged), flag(e.Verbose), e.OrgKey, e.RequestURL)
	}
	recordsFile, queriesFile := filepath.Join(dir, "records.tsv"), filepath.Join(dir, "queries.txt")
	if err := os.WriteFile(recordsFile, rec.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(queriesFile, []byte(strings.Join(corpus, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	absent, unknown := "unindexed", "none"
	if absentFalse {
		absent = "false"
	}
	if refuseUnknown {
		unknown = "refuse"
	}
	cmd := exec.Command("java", "-cp", classpath, "cbc.lucene.Reference", recordsFile, queriesFile,
		strconv.FormatInt(referenceNow.UnixMilli(), 10), absent, unknown)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the Lucene reference failed: %v\n%s", err, stderr.String())
	}
	var answers []answer
	var parses []bool
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(nil, 64<<20)
	for scanner.Scan() {
		verdict, rest, _ := strings.Cut(scanner.Text(), "\t")
		parse, detail, _ := strings.Cut(rest, "\t")
		parses = append(parses, parse == "parses")
		if verdict != "ok" {
			answers = append(answers, verdict)
			continue
		}
		var hits []string
		if detail != "" {
			for _, id := range strings.Split(detail, ",") {
				n, _ := strconv.Atoi(id)
				hits = append(hits, keys[n])
			}
		}
		answers = append(answers, hitsAnswer(hits))
	}
	if len(answers) != len(corpus) {
		t.Fatalf("the Lucene reference answered %d of %d queries", len(answers), len(corpus))
	}
	return answers, parses
}

// checkReadmeExamples: every example of the grammar table of docs/query-language.md is accepted by Lucene, and matches something
// unless the table says it matches nothing.
func checkReadmeExamples(t *testing.T, corpus []string, answers []answer) {
	t.Helper()
	for _, row := range readGrammarTable(t) {
		a := answers[slices.Index(corpus, row.example)]
		switch {
		case a == "syntax" || a == "refused":
			t.Errorf("grammar example %q: Lucene answers %s", row.example, a)
		case a == "ok " && !strings.HasPrefix(row.matches, "nothing"):
			t.Errorf("grammar example %q matches nothing in the test's records, so it shows nothing", row.example)
		}
	}
}

// verdictsFile holds whether Lucene's parser accepts each query of the corpus: the editor's syntax check is
// tested against it (src/validation.test.ts). UPDATE_LUCENE_VERDICTS=1 writes it anew.
const verdictsFile = referenceDir + "/verdicts.json"

type verdict struct {
	Query string `json:"query"`
	Valid bool   `json:"valid"`
}

func checkVerdicts(t *testing.T, corpus []string, parses []bool) {
	t.Helper()
	verdicts := make([]verdict, len(corpus))
	for i, q := range corpus {
		verdicts[i] = verdict{Query: q, Valid: parses[i]}
	}
	want, _ := json.MarshalIndent(verdicts, "", "  ")
	want = append(want, '\n')
	if os.Getenv("UPDATE_LUCENE_VERDICTS") != "" {
		if err := os.WriteFile(verdictsFile, want, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(verdictsFile)
	if err != nil || !bytes.Equal(have, want) {
		t.Errorf("%s is not what Lucene says of the corpus: run UPDATE_LUCENE_VERDICTS=1 go test -run TestAgreesWithLucene ./pkg/cbcsim", verdictsFile)
	}
}

// The generator composes the grammar at random: leaves of every field kind and construct, joined by every
// operator, nested, with modifiers, boosts and the occasional mistake.
var (
	genWords    = []string{"logged", "Logged", "login", "failed", "successfully", "user", "api", "key", "policy", "session", "live", "response", "connector", "deleted", "updated", "role", "in", "out", "for", "device", "alice.admin", "acme.example", "srv-db-02", "mcrn", "administrator", "3082", "G7R4F2AN9B", "nothing"}
	genActors   = []string{"alice.admin@acme.example", "bob.analyst@acme.example", "Carol.SOC@acme.example", "dave.ops@acme.example", "KX7Q2M9RTA", "admin@acme.example"}
	genIPs      = []string{"203.0.113.10", "198.51.100.33", "192.0.2.45", "10.20.0.15", "45.155.205.233"}
	genDates    = []string{"now", "now-1d", "now-2d/d", `now\/d`, "now-3h/h", "2024-04-16", "2024-04", "2024-04-15T10", "2024-04-16T12:30:00Z", "1713300000000", "2024-04-16||+1d"}
	genPhrases  = []string{"logged in", "login failed", "api key", "failed login", "live response session", "successfully logged", "user role", "in logged"}
	genUnknowns = []string{"category", "Actor", "nonsense"}
)

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

func generateLeaf(rng *rand.Rand) string {
	word := pick(rng, genWords)
	switch rng.IntN(24) {
	case 0:
		return "description:" + word
	case 1:
		return fmt.Sprintf(`description:"%s"`, pick(rng, genPhrases))
	case 2:
		return fmt.Sprintf(`description:"%s"~%d`, pick(rng, genPhrases), rng.IntN(4))
	case 3:
		return "description:" + word[:1+rng.IntN(len(word))] + "*"
	case 4:
		return "description:" + pick(rng, []string{"log", "fail", "ses", "ap"}) + pick(rng, []string{"?", "*ed", "??", "*"})
	case 5:
		return "description:/" + pick(rng, []string{"log.*", "[a-f]+ed", "<1000-5000>", "Log.*", "(in|out)", ".*ion", "~(log.*)"}) + "/"
	case 6:
		return "description:" + pick(rng, []string{"loged", "faled", "sesion", "ap", "in", "polcy", "respnse"}) + pick(rng, []string{"~", "~0", "~1", "~2"})
	case 7:
		return "actor:" + pick(rng, genActors)
	case 8:
		return "actor:" + pick(rng, []string{"alice", "bob", "*", "KX", "carol"}) + pick(rng, []string{"*", "*@acme.example", "?"})
	case 9:
		return "actor:/" + pick(rng, []string{"[a-c].*", "Alice.*", ".*ops.*", "[A-Z0-9]{10}", ".*&~(a.*)"}) + "/"
	case 10:
		return "actor:" + pick(rng, []string{"bob.analist@acme.example", "alice.admin@acme.exampl", "KX7Q2M9RTB"}) + pick(rng, []string{"~", "~1", "~2"})
	case 11:
		return "actor_ip:" + pick(rng, genIPs)
	case 12:
		return fmt.Sprintf("actor_ip:%s%s TO %s%s", pick(rng, []string{"[", "{"}), pick(rng, []string{"10", "192.0.2.0", "*"}), pick(rng, []string{"2", "198.51.100.99", "*"}), pick(rng, []string{"]", "}"}))
	case 13:
		return pick(rng, []string{"flagged", "verbose"}) + ":" + pick(rng, []string{"true", "false", "TRUE", "*", "[false TO true]"})
	case 14:
		return "_exists_:" + pick(rng, []string{"flagged", "verbose", "request_url", "category"})
	case 15:
		return "create_time:" + pick(rng, genDates)
	case 16:
		return fmt.Sprintf("create_time:%s%s TO %s%s", pick(rng, []string{"[", "{"}), pick(rng, genDates), pick(rng, append([]string{"*"}, genDates...)), pick(rng, []string{"]", "}"}))
	case 17:
		return "create_time:" + pick(rng, []string{">", ">=", "<", "<="}) + pick(rng, genDates)
	case 18:
		return pick(rng, genUnknowns) + ":" + word
	case 19:
		return fmt.Sprintf(`"%s"`, pick(rng, genPhrases))
	case 20:
		return word + " " + pick(rng, genWords)
	case 21:
		return "request_url:" + pick(rng, []string{"*", `https\://defense.conferdeploy.net/policies`, `"https://defense.conferdeploy.net/live-response"`, "*policies"})
	case 22:
		return pick(rng, genActors)
	}
	return word
}

func generateQuery(rng *rand.Rand, depth int) string {
	n := 1 + rng.IntN(3)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(pick(rng, []string{" AND ", " OR ", " ", " && ", " || ", " AND NOT ", " OR NOT ", " -", " +", " !"}))
		} else if rng.IntN(5) == 0 {
			b.WriteString(pick(rng, []string{"NOT ", "-", "+", "!"}))
		}
		switch {
		case depth < 2 && rng.IntN(4) == 0:
			b.WriteString("(" + generateQuery(rng, depth+1) + ")")
			if rng.IntN(6) == 0 {
				b.WriteString("^2")
			}
		case depth < 2 && rng.IntN(10) == 0:
			b.WriteString(pick(rng, []string{"description", "actor"}) + ":(" + pick(rng, genWords) + pick(rng, []string{" OR ", " ", " AND "}) + pick(rng, genWords) + ")")
		default:
			b.WriteString(generateLeaf(rng))
		}
	}
	q := b.String()
	if rng.IntN(25) == 0 { // a mistake: an operator or a bracket too many or too few
		q = pick(rng, []string{q + " AND", "OR " + q, "(" + q, q + ")", "NOT NOT " + q, q + " ^"})
	}
	return q
}

// grammarRow is one row of the grammar table of docs/query-language.md.
type grammarRow struct{ construct, example, matches string }

var grammarCell = regexp.MustCompile("`((?:[^`])+)`")

func readGrammarTable(t *testing.T) []grammarRow {
	t.Helper()
	doc, err := os.ReadFile("../../docs/query-language.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, found := strings.Cut(string(doc), "<!-- grammar -->")
	table, _, _ = strings.Cut(table, "<!-- /grammar -->")
	if !found {
		t.Fatal("docs/query-language.md has no grammar table")
	}
	var rows []grammarRow
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
		if len(cells) < 4 || !strings.Contains(cells[2], "`") {
			continue
		}
		m := grammarCell.FindStringSubmatch(cells[2])
		if m == nil {
			continue
		}
		rows = append(rows, grammarRow{
			construct: strings.TrimSpace(strings.ReplaceAll(cells[1], "\x00", "|")),
			example:   strings.ReplaceAll(m[1], "\x00", "|"),
			matches:   strings.TrimSpace(strings.ReplaceAll(cells[3], "\x00", "|")),
		})
	}
	return rows
}

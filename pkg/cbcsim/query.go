package cbcsim

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/clipperhouse/uax29/v2/words"

	"github.com/seed/cbcauditlogs/pkg/cbcsim/lucene"
)

// The simulator reads query text as Elasticsearch's query_string does: Lucene's classic syntax (package
// lucene), and for each leaf the rules of Elasticsearch's QueryStringQueryParser over the audit record's mapping
// (docs/query-language.md):
//   - description is text analysed by the standard analyzer: words cut at UAX #29 word boundaries, lower-cased;
//   - actor, actor_ip, request_url and org_key are keywords with a lowercase normalizer;
//   - flagged and verbose are booleans; create_time is a date.
// A value with no field searches description and the keyword fields, each field on its own (best_fields).

type predicate func(*entry) bool

type fieldKind int

const (
	textField fieldKind = iota
	keywordField
	boolField
	dateField
)

var fieldKinds = map[string]fieldKind{
	"description": textField,
	"actor":       keywordField,
	"actor_ip":    keywordField,
	"request_url": keywordField,
	"org_key":     keywordField,
	"flagged":     boolField,
	"verbose":     boolField,
	"create_time": dateField,
}

// defaultFields are what a value without a field searches.
var defaultFields = []string{"description", "actor", "actor_ip", "request_url", "org_key"}

// keywordIndex is where a keyword field's normalized value sits in entry.keywords.
var keywordIndex = map[string]int{"actor": 0, "actor_ip": 1, "request_url": 2, "org_key": 3}

// maxExpansions is how many terms a fuzzy query expands to at most (FuzzyQuery.defaultMaxExpansions).
const maxExpansions = 50

// queryError is a query the simulator refuses with CBC's query_malformed_syntax.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func queryErrorf(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

func matchAll(*entry) bool  { return true }
func matchNone(*entry) bool { return false }

// compileQuery turns query text into a predicate. Text without a clause, such as an empty query, matches every
// record: it is no query at all.
func (s *Simulator) compileQuery(text string, now time.Time) (predicate, error) {
	if strings.TrimSpace(text) == "" {
		return matchAll, nil
	}
	q, err := lucene.Parse(text, &leafBuilder{sim: s, now: now})
	if err != nil {
		var syntax *lucene.SyntaxError
		if errors.As(err, &syntax) {
			return nil, &queryError{msg: syntax.Error()}
		}
		return nil, err
	}
	return compileNode(q), nil
}

// compileNode joins the leaves. A query that analysis emptied matches nothing.
func compileNode(q lucene.Query) predicate {
	switch q := q.(type) {
	case predicate:
		return q
	case lucene.Boolean:
		var must, should, not []predicate
		for _, c := range q {
			p := compileNode(c.Query)
			switch c.Occur {
			case lucene.Must:
				must = append(must, p)
			case lucene.Should:
				should = append(should, p)
			default:
				not = append(not, p)
			}
		}
		if len(must) == 0 && len(should) == 0 {
			must = []predicate{matchAll} // Queries.fixNegativeQueryIfNeeded: only prohibited clauses
		}
		return func(e *entry) bool {
			for _, p := range must {
				if !p(e) {
					return false
				}
			}
			for _, p := range not {
				if p(e) {
					return false
				}
			}
			return len(must) > 0 || anyOf(should)(e)
		}
	}
	return matchNone
}

func anyOf(ps []predicate) predicate {
	return func(e *entry) bool {
		for _, p := range ps {
			if p(e) {
				return true
			}
		}
		return false
	}
}

// leafBuilder makes the leaves of a query: QueryStringQueryParser's getFieldQuery, getRangeQuery and the others.
type leafBuilder struct {
	sim *Simulator
	now time.Time
}

func (b *leafBuilder) unknownField(field string) error {
	if b.sim.cfg.RefuseUnknown {
		return queryErrorf("unknown field [%s]: the audit log has actor, actor_ip, create_time, description, flagged, org_key, request_url and verbose", field)
	}
	return nil
}

// perField makes one leaf a field and matches any of them (a dis_max). An unknown field matches nothing; a
// leaf that analysis left empty in every field is nil.
func (b *leafBuilder) perField(field string, single func(string) (predicate, error)) (lucene.Query, error) {
	fields := defaultFields
	if field != "" && field != "*" {
		if _, known := fieldKinds[field]; !known {
			return predicate(matchNone), b.unknownField(field)
		}
		fields = []string{field}
	}
	var ps []predicate
	for _, f := range fields {
		p, err := single(f)
		if err != nil {
			return nil, err
		}
		if p != nil {
			ps = append(ps, p)
		}
	}
	switch len(ps) {
	case 0:
		return nil, nil
	case 1:
		return ps[0], nil
	}
	return anyOf(ps), nil
}

func (b *leafBuilder) exists(field string) (lucene.Query, error) {
	kind, known := fieldKinds[field]
	if !known {
		return predicate(matchNone), b.unknownField(field)
	}
	switch kind {
	case textField:
		return predicate(func(e *entry) bool { return e.Description != "" }), nil
	case keywordField:
		i := keywordIndex[field]
		return predicate(func(e *entry) bool { return e.keywords[i] != "" }), nil
	case boolField:
		get := b.boolValue(field)
		return predicate(func(e *entry) bool { _, present := get(e); return present }), nil
	}
	return predicate(matchAll), nil
}

func (b *leafBuilder) boolValue(field string) func(*entry) (value, present bool) {
	absentFalse := b.sim.cfg.AbsentFalse
	if field == "flagged" {
		return func(e *entry) (bool, bool) { return e.Flagged, !e.Sparse || e.Flagged || absentFalse }
	}
	return func(e *entry) (bool, bool) { return e.Verbose, !e.Sparse || e.Verbose || absentFalse }
}

// boolTerm is BooleanFieldType.indexedValueForSearch: only true and false, in lower case.
func boolTerm(field, text string) (bool, error) {
	switch text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, queryErrorf("failed to parse [%s] as a boolean for field [%s]: use true or false, in lower case", text, field)
}

// keywordLeaf matches a keyword field's normalized value; an absent value matches nothing.
func keywordLeaf(field string, match func(string) bool) predicate {
	i := keywordIndex[field]
	return func(e *entry) bool { return e.keywords[i] != "" && match(e.keywords[i]) }
}

// wordLeaf matches a description with a word that match accepts; a word is tested once per search. Like every
// predicate, it runs under the simulator's lock.
func wordLeaf(match func(string) bool) predicate {
	seen := map[string]bool{}
	return func(e *entry) bool {
		for _, w := range e.words {
			ok, known := seen[w]
			if !known {
				ok = match(w)
				seen[w] = ok
			}
			if ok {
				return true
			}
		}
		return false
	}
}

// stringLeaf applies a test of one term to the text field's words or a keyword field's value.
func stringLeaf(field string, match func(string) bool) predicate {
	if fieldKinds[field] == textField {
		return wordLeaf(match)
	}
	return keywordLeaf(field, match)
}

func (b *leafBuilder) Field(field, text string, quoted bool, slop int) (lucene.Query, error) {
	if field == "_exists_" {
		return b.exists(text)
	}
	// field:>v, field:>=v, field:<v and field:<=v are one-sided ranges.
	if r := []rune(text); !quoted && field != "" && len(r) > 1 && (r[0] == '>' || r[0] == '<') {
		inclusive := len(r) > 2 && r[1] == '='
		bound := string(r[1:])
		if inclusive {
			bound = string(r[2:])
		}
		if r[0] == '>' {
			return b.Range(field, &bound, nil, inclusive, true)
		}
		return b.Range(field, nil, &bound, true, inclusive)
	}
	return b.perField(field, func(f string) (predicate, error) { return b.match(f, text, quoted, slop) })
}

// match is a match query (every word) or a phrase on one field.
func (b *leafBuilder) match(field, text string, phrase bool, slop int) (predicate, error) {
	switch fieldKinds[field] {
	case textField:
		want := analyse(text)
		switch {
		case len(want) == 0:
			return nil, nil
		case phrase && len(want) > 1:
			if slop < 0 {
				return nil, queryErrorf("slop value cannot be negative")
			}
			return func(e *entry) bool { return phraseWithin(e.words, want, slop) }, nil
		}
		return func(e *entry) bool { return containsAll(e.words, want) }, nil
	case keywordField:
		want := strings.ToLower(text)
		return keywordLeaf(field, func(v string) bool { return v == want }), nil
	case boolField:
		want, err := boolTerm(field, text)
		if err != nil {
			return nil, err
		}
		get := b.boolValue(field)
		return func(e *entry) bool { v, present := get(e); return present && v == want }, nil
	}
	return dateRange(&text, &text, true, true, b.now)
}

func (b *leafBuilder) Range(field string, lo, hi *string, includeLo, includeHi bool) (lucene.Query, error) {
	if lo != nil && *lo == "*" {
		lo = nil
	}
	if hi != nil && *hi == "*" {
		hi = nil
	}
	return b.perField(field, func(f string) (predicate, error) {
		switch fieldKinds[f] {
		case textField, keywordField:
			return stringLeaf(f, termRange(lower(lo), lower(hi), includeLo, includeHi)), nil
		case boolField:
			return b.boolRange(f, lo, hi, includeLo, includeHi)
		}
		return dateRange(lo, hi, includeLo, includeHi, b.now)
	})
}

func lower(s *string) *string {
	if s == nil {
		return nil
	}
	l := strings.ToLower(*s)
	return &l
}

// termRange compares terms in byte order, as Lucene's TermRangeQuery does; a nil bound is open.
func termRange(lo, hi *string, includeLo, includeHi bool) func(string) bool {
	return func(v string) bool {
		if lo != nil && (v < *lo || (v == *lo && !includeLo)) {
			return false
		}
		if hi != nil && (v > *hi || (v == *hi && !includeHi)) {
			return false
		}
		return true
	}
}

// boolRange ranges over the indexed terms of a boolean, F and T.
func (b *leafBuilder) boolRange(field string, lo, hi *string, includeLo, includeHi bool) (predicate, error) {
	term := func(s *string) (*string, error) {
		if s == nil {
			return nil, nil
		}
		v, err := boolTerm(field, *s)
		t := map[bool]string{false: "F", true: "T"}[v]
		return &t, err
	}
	l, err := term(lo)
	if err != nil {
		return nil, err
	}
	h, err := term(hi)
	if err != nil {
		return nil, err
	}
	in := termRange(l, h, includeLo, includeHi)
	get := b.boolValue(field)
	return func(e *entry) bool {
		v, present := get(e)
		return present && in(map[bool]string{false: "F", true: "T"}[v])
	}, nil
}

func onlyStrings(query, field string) error {
	if k := fieldKinds[field]; k == textField || k == keywordField {
		return nil
	}
	kind := map[fieldKind]string{boolField: "boolean", dateField: "date"}[fieldKinds[field]]
	return queryErrorf("Can only use %s queries on keyword and text fields - not on [%s] which is of type [%s]", query, field, kind)
}

func (b *leafBuilder) Wildcard(field, pattern string) (lucene.Query, error) {
	if pattern == "*" && field != "" {
		if field == "*" {
			return predicate(matchAll), nil
		}
		return b.exists(field)
	}
	return b.perField(field, func(f string) (predicate, error) {
		if pattern == "*" {
			q, err := b.exists(f)
			p, _ := q.(predicate)
			return p, err
		}
		if err := onlyStrings("wildcard", f); err != nil {
			return nil, err
		}
		return stringLeaf(f, wildcard(normalizeWildcard(pattern)).MatchString), nil
	})
}

var wildcardParts = regexp.MustCompile(`(\\.)|([?*]+)`)

// normalizeWildcard lower-cases a pattern but for its wildcards and escaped characters
// (StringFieldType.normalizeWildcardPattern).
func normalizeWildcard(pattern string) string {
	var out strings.Builder
	last := 0
	for _, m := range wildcardParts.FindAllStringIndex(pattern, -1) {
		out.WriteString(strings.ToLower(pattern[last:m[0]]))
		out.WriteString(pattern[m[0]:m[1]])
		last = m[1]
	}
	out.WriteString(strings.ToLower(pattern[last:]))
	return out.String()
}

// wildcard is WildcardQuery's language as a Go expression: * any run, ? one character, \ makes the next
// character literal (a trailing \ stands for itself).
func wildcard(pattern string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString(`^(?s:`)
	runes := []rune(pattern)
	for i := 0; i < len(runes); i++ {
		switch r := runes[i]; {
		case r == '*':
			re.WriteString(`.*`)
		case r == '?':
			re.WriteString(`.`)
		case r == '\\' && i+1 < len(runes):
			i++
			re.WriteString(regexp.QuoteMeta(string(runes[i])))
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString(`)$`)
	return regexp.MustCompile(re.String())
}

func (b *leafBuilder) Prefix(field, prefix string) (lucene.Query, error) {
	want := strings.ToLower(prefix)
	return b.perField(field, func(f string) (predicate, error) {
		if err := onlyStrings("prefix", f); err != nil {
			return nil, err
		}
		return stringLeaf(f, func(v string) bool { return strings.HasPrefix(v, want) }), nil
	})
}

func (b *leafBuilder) Regexp(field, pattern string) (lucene.Query, error) {
	if n := len([]rune(pattern)); n > 1000 {
		return nil, queryErrorf("The length of regex [%d] used in the [query_string] has exceeded the allowed maximum of [1000]", n)
	}
	return b.perField(field, func(f string) (predicate, error) {
		if err := onlyStrings("regexp", f); err != nil {
			return nil, err
		}
		re, err := lucene.CompileRegexp(pattern)
		if err != nil {
			return nil, queryErrorf("invalid regular expression /%s/: %v", pattern, err)
		}
		// The pattern is not lower-cased: /Log.*/ finds nothing in lower-cased words and values.
		return stringLeaf(f, re.MatchString), nil
	})
}

// Fuzzy takes ~ alone as AUTO (0 edits up to 2 characters, 1 up to 5, then 2) and ~N for N of 0, 1 or 2
// (QueryStringQueryParser.getFuzzyDistance, Fuzziness.fromString).
func (b *leafBuilder) Fuzzy(field, term, slop string) (lucene.Query, error) {
	edits, err := fuzziness(term, slop)
	if err != nil {
		return nil, err
	}
	want := strings.ToLower(term)
	return b.perField(field, func(f string) (predicate, error) {
		if err := onlyStrings("fuzzy", f); err != nil {
			return nil, err
		}
		if edits == 0 {
			return stringLeaf(f, func(v string) bool { return v == want }), nil
		}
		var once sync.Once
		var accepted map[string]bool
		return stringLeaf(f, func(v string) bool {
			once.Do(func() { accepted = b.sim.fuzzyTerms(f, want, edits) })
			return accepted[v]
		}), nil
	})
}

func fuzziness(term, slop string) (int, error) {
	s := strings.ToUpper(slop)
	if s == "" || s == "AUTO" {
		switch n := len([]rune(term)); {
		case n < 3:
			return 0, nil
		case n < 6:
			return 1, nil
		}
		return 2, nil
	}
	f, ok := lucene.ParseJavaFloat(s)
	switch {
	case !ok:
		return 0, queryErrorf("fuzziness cannot be [%s]: use ~, ~0, ~1 or ~2", slop)
	case f != float64(int(f)):
		return 0, queryErrorf("fuzziness needs to be one of 0.0, 1.0 or 2.0 but was %v", f)
	case f < 0 || f > 2:
		return 0, queryErrorf("Valid edit distances are [0, 1, 2] but was [%d]", int(f))
	}
	return int(f), nil
}

// fuzzyTerms is the set of terms a fuzzy query expands to: those of the field within edits of want, at most
// maxExpansions, the most similar first and then in term order (FuzzyTermsEnum and TopTermsRewrite). The
// caller holds s.mu.
func (s *Simulator) fuzzyTerms(field, want string, edits int) map[string]bool {
	type scored struct {
		term  string
		boost float64
	}
	var found []scored
	n := len([]rune(want))
	for term := range s.dictionary(field) {
		d, ok := editsWithin(term, want, edits)
		if !ok {
			continue
		}
		boost := 1.0
		if d > 0 {
			boost = 1 - float64(d)/float64(min(len([]rune(term)), n))
		}
		found = append(found, scored{term, boost})
	}
	slices.SortFunc(found, func(a, b scored) int {
		if c := cmp.Compare(b.boost, a.boost); c != 0 {
			return c
		}
		return strings.Compare(a.term, b.term)
	})
	out := map[string]bool{}
	for _, t := range found[:min(len(found), maxExpansions)] {
		out[t.term] = true
	}
	return out
}

// dictionary is the set of a field's terms over the store: the words of descriptions, or a keyword's values.
func (s *Simulator) dictionary(field string) map[string]struct{} {
	terms := map[string]struct{}{}
	for i := range s.records {
		e := &s.records[i]
		if fieldKinds[field] == textField {
			for _, w := range e.words {
				terms[w] = struct{}{}
			}
		} else if v := e.keywords[keywordIndex[field]]; v != "" {
			terms[v] = struct{}{}
		}
	}
	return terms
}

// analyse is the standard analyzer: the words between UAX #29 word boundaries that hold a letter, a digit or
// an ideograph, lower-cased.
func analyse(s string) []string {
	var out []string
	tokens := words.FromString(s)
	for tokens.Next() {
		w := tokens.Value()
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0 {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// phraseWithin is Lucene's phrase match: each word of want at its own position p_i in have, such that the
// spread of p_i - i is at most slop. With slop 0 the words stand in order, next to each other; two neighbours
// swapped cost 2.
func phraseWithin(have, want []string, slop int) bool {
	positions := make([][]int, len(want))
	for i, w := range want {
		for p, h := range have {
			if h == w {
				positions[i] = append(positions[i], p)
			}
		}
		if positions[i] == nil {
			return false
		}
	}
	used := make([]bool, len(have))
	var try func(i, lo, hi int) bool
	try = func(i, lo, hi int) bool {
		if hi-lo > slop {
			return false
		}
		if i == len(want) {
			return true
		}
		for _, p := range positions[i] {
			if used[p] {
				continue
			}
			used[p] = true
			ok := try(i+1, min(lo, p-i), max(hi, p-i))
			used[p] = false
			if ok {
				return true
			}
		}
		return false
	}
	for _, p := range positions[0] {
		used[p] = true
		ok := try(1, p, p)
		used[p] = false
		if ok {
			return true
		}
	}
	return false
}

// editsWithin reports the optimal string alignment distance between a and b (insertions, deletions,
// substitutions and swaps of neighbours, as Lucene's fuzzy automata with transpositions count), when it is at
// most n.
func editsWithin(a, b string, n int) (int, bool) {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > n || -d > n {
		return 0, false
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	d := prev[len(rb)]
	return d, d <= n
}

package cbcsim

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/seed/cbcauditlogs/pkg/cbcsim/lucene"
)

// The simulator reads the query text with Lucene's syntax and gives it meaning through an Elasticsearch-like
// mapping of the audit record (README, "Query language"):
//   - description is analysed text: a value matches words of it, case-insensitively;
//   - actor, actor_ip, request_url and org_key are keywords: a value matches the whole value, case-insensitively;
//   - flagged and verbose are booleans; create_time is a date.
// A value with no field searches description and the keyword fields.

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

func stringValue(field string) func(*entry) string {
	switch field {
	case "actor":
		return func(e *entry) string { return e.Actor }
	case "actor_ip":
		return func(e *entry) string { return e.ActorIP }
	case "request_url":
		return func(e *entry) string { return e.RequestURL }
	case "org_key":
		return func(e *entry) string { return e.OrgKey }
	default:
		return func(e *entry) string { return e.Description }
	}
}

func boolValue(field string) func(*entry) (value, present bool) {
	if field == "flagged" {
		return func(e *entry) (bool, bool) { return e.Flagged, !e.Sparse || e.Flagged }
	}
	return func(e *entry) (bool, bool) { return e.Verbose, !e.Sparse || e.Verbose }
}

// queryError is a query the simulator refuses with CBC's query_malformed_syntax.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func queryErrorf(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

// compileQuery turns query text into a predicate.
func compileQuery(text string, now time.Time) (predicate, error) {
	q, err := lucene.Parse(text)
	if err != nil {
		var syntax *lucene.SyntaxError
		if errors.As(err, &syntax) {
			return nil, &queryError{msg: syntax.Error()}
		}
		return nil, err
	}
	return compileNode(q, now)
}

func compileNode(q lucene.Query, now time.Time) (predicate, error) {
	switch q := q.(type) {
	case lucene.And:
		return compileAll(q, now, func(ps []predicate) predicate {
			return func(e *entry) bool {
				for _, p := range ps {
					if !p(e) {
						return false
					}
				}
				return true
			}
		})
	case lucene.Or:
		return compileAll(q, now, anyOf)
	case lucene.Not:
		inner, err := compileNode(q.Query, now)
		if err != nil {
			return nil, err
		}
		return func(e *entry) bool { return !inner(e) }, nil
	case lucene.MatchAll:
		return func(*entry) bool { return true }, nil
	}
	field := fieldOf(q)
	if field == "" {
		var ps []predicate
		for _, f := range defaultFields {
			p, err := compileLeaf(q, f, now) // leaves read the field they are given, not the node's
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return anyOf(ps), nil
	}
	if _, known := fieldKinds[field]; !known {
		return nil, queryErrorf("unknown field [%s]: the audit log has actor, actor_ip, create_time, description, flagged, org_key, request_url and verbose", field)
	}
	return compileLeaf(q, field, now)
}

func compileAll[Q ~[]lucene.Query](qs Q, now time.Time, combine func([]predicate) predicate) (predicate, error) {
	ps := make([]predicate, 0, len(qs))
	for _, q := range qs {
		p, err := compileNode(q, now)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return combine(ps), nil
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

func fieldOf(q lucene.Query) string {
	switch q := q.(type) {
	case lucene.Exists:
		return q.Field
	case lucene.Term:
		return q.Field
	case lucene.Phrase:
		return q.Field
	case lucene.Wildcard:
		return q.Field
	case lucene.Regexp:
		return q.Field
	case lucene.Fuzzy:
		return q.Field
	case lucene.Range:
		return q.Field
	}
	return ""
}

func compileLeaf(q lucene.Query, field string, now time.Time) (predicate, error) {
	switch fieldKinds[field] {
	case textField:
		return textLeaf(q, stringValue(field))
	case keywordField:
		return keywordLeaf(q, stringValue(field))
	case boolField:
		return boolLeaf(q, field)
	default:
		return dateLeaf(q, now)
	}
}

func matchNone(*entry) bool { return false }

// textLeaf matches description by its words.
func textLeaf(q lucene.Query, get func(*entry) string) (predicate, error) {
	anyWord := func(match func(string) bool) predicate {
		return func(e *entry) bool {
			for _, w := range e.words {
				if match(w) {
					return true
				}
			}
			return false
		}
	}
	switch q := q.(type) {
	case lucene.Exists:
		return func(e *entry) bool { return get(e) != "" }, nil
	case lucene.Term:
		want := analyse(q.Value)
		if len(want) == 0 {
			return matchNone, nil
		}
		return func(e *entry) bool { return containsAll(e.words, want) }, nil
	case lucene.Phrase:
		want := analyse(q.Value)
		if len(want) == 0 {
			return matchNone, nil
		}
		return func(e *entry) bool { return withinSlop(e.words, want, q.Slop) }, nil
	case lucene.Wildcard:
		re, err := regexp.Compile(strings.ToLower(q.Pattern))
		if err != nil {
			return nil, queryErrorf("invalid wildcard %q", q.Text)
		}
		return anyWord(re.MatchString), nil
	case lucene.Regexp:
		re, err := anchored(q.Pattern)
		if err != nil {
			return nil, err
		}
		return anyWord(re.MatchString), nil
	case lucene.Fuzzy:
		want := strings.ToLower(q.Value)
		return anyWord(func(w string) bool { return withinEdits(w, want, q.Edits) }), nil
	case lucene.Range:
		in := stringRange(q)
		return anyWord(in), nil
	}
	return nil, queryErrorf("unsupported query %T", q)
}

// keywordLeaf matches a keyword field by its whole value.
func keywordLeaf(q lucene.Query, get func(*entry) string) (predicate, error) {
	lower := func(e *entry) string { return strings.ToLower(get(e)) }
	switch q := q.(type) {
	case lucene.Exists:
		return func(e *entry) bool { return get(e) != "" }, nil
	case lucene.Term:
		return func(e *entry) bool { return strings.EqualFold(get(e), q.Value) }, nil
	case lucene.Phrase:
		return func(e *entry) bool { return strings.EqualFold(get(e), q.Value) }, nil
	case lucene.Wildcard:
		re, err := regexp.Compile(strings.ToLower(q.Pattern))
		if err != nil {
			return nil, queryErrorf("invalid wildcard %q", q.Text)
		}
		return func(e *entry) bool { return re.MatchString(lower(e)) }, nil
	case lucene.Regexp:
		re, err := anchored(q.Pattern)
		if err != nil {
			return nil, err
		}
		return func(e *entry) bool { return re.MatchString(get(e)) }, nil
	case lucene.Fuzzy:
		want := strings.ToLower(q.Value)
		return func(e *entry) bool { return withinEdits(lower(e), want, q.Edits) }, nil
	case lucene.Range:
		in := stringRange(q)
		return func(e *entry) bool { return in(lower(e)) }, nil
	}
	return nil, queryErrorf("unsupported query %T", q)
}

func boolLeaf(q lucene.Query, field string) (predicate, error) {
	get := boolValue(field)
	var text string
	switch q := q.(type) {
	case lucene.Exists:
		return func(e *entry) bool { _, present := get(e); return present }, nil
	case lucene.Term:
		text = q.Value
	case lucene.Phrase:
		text = q.Value
	default:
		return nil, queryErrorf("%s is a boolean field: use %s:true or %s:false", field, field, field)
	}
	var want bool
	switch strings.ToLower(text) {
	case "true":
		want = true
	case "false":
	default:
		return nil, queryErrorf("failed to parse [%s] as a boolean for field [%s]: use true or false", text, field)
	}
	return func(e *entry) bool { v, _ := get(e); return v == want }, nil
}

func dateLeaf(q lucene.Query, now time.Time) (predicate, error) {
	switch q := q.(type) {
	case lucene.Exists:
		return func(e *entry) bool { return !e.CreateTime.IsZero() }, nil
	case lucene.Term, lucene.Phrase:
		var value string
		if t, ok := q.(lucene.Term); ok {
			value = t.Value
		} else {
			value = q.(lucene.Phrase).Value
		}
		from, to, err := parseDate(value, now)
		if err != nil {
			return nil, err
		}
		return func(e *entry) bool { return !e.CreateTime.Before(from) && !e.CreateTime.After(to) }, nil
	case lucene.Range:
		after, before, err := dateBounds(q, now)
		if err != nil {
			return nil, err
		}
		return func(e *entry) bool { return after(e.CreateTime) && before(e.CreateTime) }, nil
	}
	return nil, queryErrorf("create_time is a date: use a date, a range such as [2024-04-01 TO now] or >=now-1d")
}

// dateBounds reads a range the way Elasticsearch rounds it: an inclusive upper bound, or an exclusive lower
// one, stands for the end of the period the date names (2024-04-17 is the whole day).
func dateBounds(q lucene.Range, now time.Time) (after, before func(time.Time) bool, err error) {
	after = func(time.Time) bool { return true }
	before = after
	if q.Lo != "" {
		from, to, err := parseDate(q.Lo, now)
		if err != nil {
			return nil, nil, err
		}
		if q.IncludeLo {
			after = func(t time.Time) bool { return !t.Before(from) }
		} else {
			after = func(t time.Time) bool { return t.After(to) }
		}
	}
	if q.Hi != "" {
		from, to, err := parseDate(q.Hi, now)
		if err != nil {
			return nil, nil, err
		}
		if q.IncludeHi {
			before = func(t time.Time) bool { return !t.After(to) }
		} else {
			before = func(t time.Time) bool { return t.Before(from) }
		}
	}
	return after, before, nil
}

func anchored(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?i)^(?:" + pattern + ")$")
	if err != nil {
		return nil, queryErrorf("invalid regular expression /%s/", pattern)
	}
	return re, nil
}

// stringRange compares lower-cased values in byte order; an empty bound is open.
func stringRange(q lucene.Range) func(string) bool {
	lo, hi := strings.ToLower(q.Lo), strings.ToLower(q.Hi)
	return func(v string) bool {
		if q.Lo != "" && (v < lo || (v == lo && !q.IncludeLo)) {
			return false
		}
		if q.Hi != "" && (v > hi || (v == hi && !q.IncludeHi)) {
			return false
		}
		return true
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// withinSlop reports whether the words of want appear in have within a window of len(want)+slop words. With
// slop 0 they must be consecutive and in order; with a slop, order is free: an approximation of Lucene's
// sloppy phrase, which counts moves.
func withinSlop(have, want []string, slop int) bool {
	if slop == 0 {
		for i := 0; i+len(want) <= len(have); i++ {
			match := true
			for j := range want {
				if have[i+j] != want[j] {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
		return false
	}
	width := len(want) + slop
	for i := range have {
		if containsAll(have[i:min(len(have), i+width)], want) {
			return true
		}
	}
	return false
}

// withinEdits reports whether a and b are at most n edits apart: insertions, deletions, substitutions and
// transpositions of neighbours (optimal string alignment distance).
func withinEdits(a, b string, n int) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > n || -d > n {
		return false
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
	return prev[len(rb)] <= n
}

package cbcsim

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/seed/cbcauditlogs/pkg/cbc"
)

// The query language the simulator implements (cbc-api.md): field:value, field:"phrase", bare words (matched
// against description), AND / OR / NOT, parentheses, a trailing * wildcard; adjacent terms are AND-ed. Text
// matching is by words, case-insensitively: description:"Login failed" matches "Login failed for user x".

type matcher func(*cbc.Record) bool

// syntaxError is a query the simulator refuses with reason query_malformed_syntax.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func syntaxErrorf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

type token struct {
	kind  string // "word", "phrase", "(", ")", "AND", "OR", "NOT"
	field string // for word and phrase: the field before ':', if any
	text  string
	pos   int
}

func tokenize(q string) ([]token, error) {
	var tokens []token
	rs := []rune(q)
	for i := 0; i < len(rs); {
		switch r := rs[i]; {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			tokens = append(tokens, token{kind: string(r), pos: i})
			i++
		default:
			start := i
			field := ""
			for i < len(rs) && !unicode.IsSpace(rs[i]) && rs[i] != '(' && rs[i] != ')' && rs[i] != '"' && rs[i] != ':' {
				i++
			}
			if i < len(rs) && rs[i] == ':' {
				field = string(rs[start:i])
				if field == "" {
					return nil, syntaxErrorf("a field name is missing before ':' at position %d", start)
				}
				i++
			} else {
				i = start
			}
			if i < len(rs) && rs[i] == '"' {
				end := i + 1
				for end < len(rs) && rs[end] != '"' {
					end++
				}
				if end == len(rs) {
					return nil, syntaxErrorf("the quote opened at position %d is never closed", i)
				}
				tokens = append(tokens, token{kind: "phrase", field: field, text: string(rs[i+1 : end]), pos: start})
				i = end + 1
				continue
			}
			valueStart := i
			for i < len(rs) && !unicode.IsSpace(rs[i]) && rs[i] != '(' && rs[i] != ')' && rs[i] != '"' {
				i++
			}
			value := string(rs[valueStart:i])
			if field != "" && value == "" {
				return nil, syntaxErrorf("field %q has no value at position %d", field, start)
			}
			if field == "" && (value == "AND" || value == "OR" || value == "NOT") {
				tokens = append(tokens, token{kind: value, pos: start})
				continue
			}
			tokens = append(tokens, token{kind: "word", field: field, text: value, pos: start})
		}
	}
	return tokens, nil
}

type parser struct {
	tokens []token
	pos    int
}

// parseQuery compiles a query into a matcher; the empty query matches everything.
func parseQuery(q string) (matcher, error) {
	tokens, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return func(*cbc.Record) bool { return true }, nil
	}
	p := &parser{tokens: tokens}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.tokens) {
		return nil, syntaxErrorf("unexpected %q at position %d", p.tokens[p.pos].show(), p.tokens[p.pos].pos)
	}
	return m, nil
}

func (t token) show() string {
	switch t.kind {
	case "word":
		return t.text
	case "phrase":
		return `"` + t.text + `"`
	}
	return t.kind
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.tokens) {
		return p.tokens[p.pos], true
	}
	return token{}, false
}

func (p *parser) or() (matcher, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.kind != "OR" {
			return left, nil
		}
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r *cbc.Record) bool { return l(r) || right(r) }
	}
}

func (p *parser) and() (matcher, error) {
	left, err := p.not()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.kind == "OR" || t.kind == ")" {
			return left, nil
		}
		if t.kind == "AND" {
			p.pos++
		}
		right, err := p.not()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r *cbc.Record) bool { return l(r) && right(r) }
	}
}

func (p *parser) not() (matcher, error) {
	t, ok := p.peek()
	if ok && t.kind == "NOT" {
		p.pos++
		inner, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(r *cbc.Record) bool { return !inner(r) }, nil
	}
	return p.primary()
}

func (p *parser) primary() (matcher, error) {
	t, ok := p.peek()
	if !ok {
		return nil, syntaxErrorf("the query ends where a term was expected")
	}
	p.pos++
	switch t.kind {
	case "(":
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if closing, ok := p.peek(); !ok || closing.kind != ")" {
			return nil, syntaxErrorf("the parenthesis opened at position %d is never closed", t.pos)
		}
		p.pos++
		return inner, nil
	case "word", "phrase":
		return termMatcher(t)
	default:
		return nil, syntaxErrorf("unexpected %q at position %d", t.show(), t.pos)
	}
}

// termMatcher matches one field:value term.
func termMatcher(t token) (matcher, error) {
	field := t.field
	if field == "" {
		field = "description"
		if t.kind == "word" && t.text == "*" {
			return func(*cbc.Record) bool { return true }, nil
		}
	}
	if field == "flagged" || field == "verbose" {
		want, err := parseBool(t.text)
		if err != nil {
			return nil, syntaxErrorf("%s takes true or false, not %q", field, t.text)
		}
		get := boolField(field)
		return func(r *cbc.Record) bool { return get(r) == want }, nil
	}
	get, ok := textField(field)
	if !ok {
		return nil, syntaxErrorf("unknown field %q: use one of actor, actor_ip, description, request_url, org_key, flagged, verbose", field)
	}
	prefix := t.kind == "word" && strings.HasSuffix(t.text, "*")
	want := words(strings.TrimSuffix(t.text, "*"))
	if len(want) == 0 {
		return func(r *cbc.Record) bool { return prefix || get(r) == "" }, nil
	}
	return func(r *cbc.Record) bool { return containsWords(words(get(r)), want, prefix) }, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func boolField(field string) func(*cbc.Record) bool {
	if field == "flagged" {
		return func(r *cbc.Record) bool { return r.Flagged }
	}
	return func(r *cbc.Record) bool { return r.Verbose }
}

func textField(field string) (func(*cbc.Record) string, bool) {
	switch field {
	case "actor":
		return func(r *cbc.Record) string { return r.Actor }, true
	case "actor_ip":
		return func(r *cbc.Record) string { return r.ActorIP }, true
	case "description":
		return func(r *cbc.Record) string { return r.Description }, true
	case "request_url":
		return func(r *cbc.Record) string { return r.RequestURL }, true
	case "org_key":
		return func(r *cbc.Record) string { return r.OrgKey }, true
	}
	return nil, false
}

// words splits text into lower-case words of letters and digits, as a search index would.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// containsWords reports whether want appears as consecutive words of have; with prefix, the last word of want
// only has to begin a word.
func containsWords(have, want []string, prefix bool) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		match := true
		for j, w := range want {
			last := j == len(want)-1
			if have[i+j] != w && !(last && prefix && strings.HasPrefix(have[i+j], w)) {
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

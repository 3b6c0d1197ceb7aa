package lucene

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Bounds that keep one hostile query from exhausting the server. MaxClauses is Lucene's default
// maxClauseCount; MaxDepth bounds nesting, which the parser follows by recursion.
const (
	MaxClauses = 1024
	MaxDepth   = 100
)

// SyntaxError is a query that cannot be parsed, with the position (in characters) where parsing stopped.
type SyntaxError struct {
	Query string
	Pos   int
	Msg   string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Failed to parse query [%s]: %s at position %d", e.Query, e.Msg, e.Pos)
}

// Parse reads a query. Adjacent clauses without an operator are AND-ed; NOT binds tighter than AND, and AND
// tighter than OR. The empty query matches everything.
func Parse(query string) (Query, error) {
	p := &parser{src: []rune(query), query: query}
	p.skipSpace()
	if p.end() {
		return MatchAll{}, nil
	}
	q, err := p.or("")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.end() {
		return nil, p.errorf("unexpected %q", string(p.src[p.pos]))
	}
	return q, nil
}

type parser struct {
	src     []rune
	pos     int
	query   string
	depth   int
	clauses int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Query: p.query, Pos: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) end() bool { return p.pos >= len(p.src) }

func (p *parser) peek() rune {
	if p.end() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) skipSpace() {
	for !p.end() && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u3000' }

// endsTerm reports the characters that end an unescaped term; Lucene reserves them.
func endsTerm(r rune) bool {
	return isSpace(r) || strings.ContainsRune(`()[]{}"^~:/!`, r)
}

// keyword consumes one of words when it stands alone at the current position (AND, not ANDROID).
func (p *parser) keyword(words ...string) bool {
	for _, w := range words {
		n := len([]rune(w))
		if p.pos+n > len(p.src) || string(p.src[p.pos:p.pos+n]) != w {
			continue
		}
		if p.pos+n < len(p.src) && !endsTerm(p.src[p.pos+n]) && !strings.ContainsRune("&|", p.src[p.pos+n]) {
			continue
		}
		p.pos += n
		return true
	}
	return false
}

func (p *parser) atOr() bool {
	save := p.pos
	ok := p.keyword("OR", "||")
	p.pos = save
	return ok
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("the query nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) or(field string) (Query, error) {
	first, err := p.and(field)
	if err != nil {
		return nil, err
	}
	clauses := Or{first}
	for {
		p.skipSpace()
		if !p.keyword("OR", "||") {
			break
		}
		next, err := p.and(field)
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, next)
	}
	if len(clauses) == 1 {
		return first, nil
	}
	return clauses, nil
}

func (p *parser) and(field string) (Query, error) {
	first, err := p.unary(field)
	if err != nil {
		return nil, err
	}
	clauses := And{first}
	for {
		p.skipSpace()
		if p.end() || p.peek() == ')' || p.atOr() {
			break
		}
		p.keyword("AND", "&&")
		next, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, next)
	}
	if len(clauses) == 1 {
		return first, nil
	}
	return clauses, nil
}

func (p *parser) unary(field string) (Query, error) {
	p.skipSpace()
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	negated := p.keyword("NOT")
	if !negated && (p.peek() == '!' || p.peek() == '-') {
		p.pos++
		negated = true
	}
	if negated {
		inner, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		return Not{inner}, nil
	}
	if p.peek() == '+' {
		p.pos++
		return p.unary(field)
	}
	return p.primary(field)
}

func (p *parser) primary(field string) (Query, error) {
	p.skipSpace()
	if p.end() {
		return nil, p.errorf("the query ends where a term was expected")
	}
	save := p.pos
	if p.keyword("AND", "OR", "&&", "||") {
		p.pos = save
		return nil, p.errorf("%s needs a term before it", p.word())
	}
	if p.peek() == '(' {
		return p.group(field)
	}
	if name, ok := p.fieldName(); ok {
		p.pos++ // the ':'
		if name == "*" {
			name = ""
		}
		return p.fieldValue(name)
	}
	return p.value(field, false)
}

// word is the run of non-space characters at the current position, for messages.
func (p *parser) word() string {
	end := p.pos
	for end < len(p.src) && !isSpace(p.src[end]) {
		end++
	}
	return string(p.src[p.pos:end])
}

// fieldName reads "name" when "name:" stands at the current position, leaving the position at the ':'.
func (p *parser) fieldName() (string, bool) {
	end := p.pos
	var name strings.Builder
	for end < len(p.src) && !endsTerm(p.src[end]) {
		if p.src[end] == '\\' && end+1 < len(p.src) {
			end++
		}
		name.WriteRune(p.src[end])
		end++
	}
	if end == p.pos || end >= len(p.src) || p.src[end] != ':' {
		return "", false
	}
	p.pos = end
	return name.String(), true
}

func (p *parser) group(field string) (Query, error) {
	open := p.pos
	p.pos++
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	inner, err := p.or(field)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		p.pos = open
		return nil, p.errorf("the parenthesis opened here is never closed")
	}
	p.pos++
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	return inner, nil
}

func (p *parser) fieldValue(field string) (Query, error) {
	if p.end() || isSpace(p.peek()) {
		return nil, p.errorf("field %q has no value", field)
	}
	if field == "_exists_" {
		q, err := p.value("", false)
		if err != nil {
			return nil, err
		}
		t, ok := q.(Term)
		if !ok {
			return nil, p.errorf("_exists_ takes a field name")
		}
		return Exists{Field: t.Value}, nil
	}
	switch p.peek() {
	case '(':
		return p.group(field)
	case '>', '<':
		return p.comparison(field)
	}
	return p.value(field, true)
}

// comparison reads >v, >=v, <v and <=v as one-sided ranges.
func (p *parser) comparison(field string) (Query, error) {
	greater := p.peek() == '>'
	p.pos++
	inclusive := p.peek() == '='
	if inclusive {
		p.pos++
	}
	bound, err := p.bound(func(r rune) bool { return isSpace(r) || strings.ContainsRune(`()^`, r) })
	if err != nil {
		return nil, err
	}
	if bound == "" {
		return nil, p.errorf("a comparison needs a value")
	}
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	if greater {
		return Range{Field: field, Lo: bound, IncludeLo: inclusive}, nil
	}
	return Range{Field: field, Hi: bound, IncludeHi: inclusive}, nil
}

// value reads a term, phrase, regular expression or range, with its ~ and ^ suffixes.
func (p *parser) value(field string, afterColon bool) (Query, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	switch p.peek() {
	case '"':
		return p.phrase(field)
	case '/':
		return p.regexp(field)
	case '[', '{':
		return p.rangeQuery(field)
	}
	text, wild, err := p.term()
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		if afterColon {
			return nil, p.errorf("field %q has no value", field)
		}
		return nil, p.errorf("unexpected %q", string(p.peek()))
	}
	if p.peek() == '~' {
		edits, err := p.fuzziness(len(text))
		if err != nil {
			return nil, err
		}
		if _, err := p.suffix('^'); err != nil {
			return nil, err
		}
		return Fuzzy{Field: field, Value: string(text), Edits: edits}, nil
	}
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	if len(text) == 1 && wild[0] && text[0] == '*' {
		if field == "" {
			return MatchAll{}, nil
		}
		return Exists{Field: field}, nil
	}
	for i := range text {
		if wild[i] {
			return wildcard(field, text, wild), nil
		}
	}
	return Term{Field: field, Value: string(text)}, nil
}

func (p *parser) count() error {
	p.clauses++
	if p.clauses > MaxClauses {
		return p.errorf("the query has more than %d clauses", MaxClauses)
	}
	return nil
}

// term reads an unquoted value, removing escapes; wild marks the unescaped * and ? in it.
func (p *parser) term() (text []rune, wild []bool, err error) {
	for !p.end() {
		r := p.src[p.pos]
		if r == '\\' {
			if p.pos+1 >= len(p.src) {
				return nil, nil, p.errorf("the query ends with a lone backslash")
			}
			text, wild = append(text, p.src[p.pos+1]), append(wild, false)
			p.pos += 2
			continue
		}
		if endsTerm(r) {
			break
		}
		text, wild = append(text, r), append(wild, r == '*' || r == '?')
		p.pos++
	}
	return text, wild, nil
}

func wildcard(field string, text []rune, wild []bool) Wildcard {
	var re strings.Builder
	re.WriteString("^(?s:")
	for i, r := range text {
		switch {
		case wild[i] && r == '*':
			re.WriteString(".*")
		case wild[i] && r == '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString(")$")
	return Wildcard{Field: field, Pattern: re.String(), Text: string(text)}
}

func (p *parser) phrase(field string) (Query, error) {
	open := p.pos
	p.pos++
	var text strings.Builder
	for {
		if p.end() {
			p.pos = open
			return nil, p.errorf("the quote opened here is never closed")
		}
		r := p.src[p.pos]
		p.pos++
		if r == '"' {
			break
		}
		if r == '\\' && !p.end() {
			r = p.src[p.pos]
			p.pos++
		}
		text.WriteRune(r)
	}
	slop := 0
	if p.peek() == '~' {
		n, err := p.suffix('~')
		if err != nil {
			return nil, err
		}
		slop = int(n)
		if n < 0 {
			slop = 0
		}
	}
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	return Phrase{Field: field, Value: text.String(), Slop: slop}, nil
}

func (p *parser) regexp(field string) (Query, error) {
	open := p.pos
	p.pos++
	var pattern strings.Builder
	for {
		if p.end() {
			p.pos = open
			return nil, p.errorf("the regular expression opened here is never closed")
		}
		r := p.src[p.pos]
		p.pos++
		if r == '/' {
			break
		}
		if r == '\\' && p.peek() == '/' {
			r = '/'
			p.pos++
		} else if r == '\\' && !p.end() {
			pattern.WriteRune(r)
			r = p.src[p.pos]
			p.pos++
		}
		pattern.WriteRune(r)
	}
	if _, err := regexp.Compile(pattern.String()); err != nil {
		p.pos = open
		return nil, p.errorf("invalid regular expression /%s/", pattern.String())
	}
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	return Regexp{Field: field, Pattern: pattern.String()}, nil
}

func (p *parser) rangeQuery(field string) (Query, error) {
	open := p.pos
	includeLo := p.peek() == '['
	p.pos++
	inRange := func(r rune) bool { return isSpace(r) || r == ']' || r == '}' }
	p.skipSpace()
	lo, err := p.bound(inRange)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.keyword("TO") {
		return nil, p.errorf("a range needs TO between its bounds, as in [a TO b]")
	}
	p.skipSpace()
	hi, err := p.bound(inRange)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ']' && p.peek() != '}' {
		p.pos = open
		return nil, p.errorf("the range opened here is never closed")
	}
	includeHi := p.peek() == ']'
	p.pos++
	if lo == "" || hi == "" {
		return nil, p.errorf("a range bound is missing: use * for an open end")
	}
	if _, err := p.suffix('^'); err != nil {
		return nil, err
	}
	r := Range{Field: field, Lo: lo, Hi: hi, IncludeLo: includeLo, IncludeHi: includeHi}
	if lo == "*" {
		r.Lo, r.IncludeLo = "", false
	}
	if hi == "*" {
		r.Hi, r.IncludeHi = "", false
	}
	return r, nil
}

// bound reads a range bound: a quoted value, or characters up to one that stop says ends it.
func (p *parser) bound(stop func(rune) bool) (string, error) {
	if p.peek() == '"' {
		q, err := p.phrase("")
		if err != nil {
			return "", err
		}
		return q.(Phrase).Value, nil
	}
	var b strings.Builder
	for !p.end() && !stop(p.src[p.pos]) {
		if p.src[p.pos] == '\\' && p.pos+1 < len(p.src) {
			p.pos++
		}
		b.WriteRune(p.src[p.pos])
		p.pos++
	}
	return b.String(), nil
}

// suffix reads an optional ~N or ^N after a value and returns N, or -1 when the marker has no number.
func (p *parser) suffix(marker rune) (float64, error) {
	if p.peek() != marker {
		return -1, nil
	}
	p.pos++
	start := p.pos
	for !p.end() && (unicode.IsDigit(p.peek()) || p.peek() == '.') {
		p.pos++
	}
	if start == p.pos {
		if marker == '^' {
			return 0, p.errorf("^ needs a boost number, as in ^2")
		}
		return -1, nil
	}
	n, err := strconv.ParseFloat(string(p.src[start:p.pos]), 64)
	if err != nil {
		return 0, p.errorf("%q is not a number", string(p.src[start:p.pos]))
	}
	return n, nil
}

// fuzziness reads ~ or ~N after a term. Lucene's older ~0.8 similarity is turned into edits its way.
func (p *parser) fuzziness(termLength int) (int, error) {
	n, err := p.suffix('~')
	switch {
	case err != nil:
		return 0, err
	case n < 0:
		return 2, nil
	case n >= 1:
		return min(int(n), 2), nil
	default:
		return min(int((1-n)*float64(termLength)), 2), nil
	}
}

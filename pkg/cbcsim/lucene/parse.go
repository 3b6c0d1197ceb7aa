// Package lucene parses query text the way Lucene's classic QueryParser does (lucene-queryparser 9.12, with
// Elasticsearch's settings: text is split on operators only, and the default operator is AND). It knows
// nothing of fields: a Builder makes each leaf, as the QueryParser's getFieldQuery, getRangeQuery, … do, and the
// parser joins the leaves into Boolean queries with Lucene's rules for AND, OR, NOT, + and -, which have no
// precedence: "a OR b AND c" requires b and c.
package lucene

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bounds that keep one hostile query from exhausting the server: Lucene's default maxClauseCount, and a
// nesting depth, which the parser follows by recursion.
const (
	MaxClauses = 1024
	MaxDepth   = 100
)

// Query is a parsed query: a Boolean, or a leaf a Builder made.
type Query any

// Occur says how a clause of a Boolean counts, as Lucene's BooleanClause.Occur.
type Occur int

// The occurrences a clause can have.
const (
	Must    Occur = iota // the clause must match
	Should               // the clause may match
	MustNot              // the clause must not match
)

// Clause is one part of a Boolean.
type Clause struct {
	Occur Occur
	Query Query
}

// Boolean matches what matches every Must clause and no MustNot clause; when it has no Must clause, at least
// one Should clause must match too.
type Boolean []Clause

// Builder makes the leaves of a query. A leaf that analysis leaves empty is nil: the parser drops it. An error
// from a Builder is returned as it is.
type Builder interface {
	// Field is a value or a "quoted phrase" (with its slop) for a field; field is "" for the default fields
	// and "*" for *:.
	Field(field, text string, quoted bool, slop int) (Query, error)
	// Range is [lo TO hi], {lo TO hi} or a mix; an open bound is nil.
	Range(field string, lo, hi *string, includeLo, includeHi bool) (Query, error)
	// Wildcard is a value with * or ?, as written: escapes are still in it.
	Wildcard(field, pattern string) (Query, error)
	// Prefix is value*, with escapes removed.
	Prefix(field, prefix string) (Query, error)
	// Regexp is /pattern/, as written between the slashes.
	Regexp(field, pattern string) (Query, error)
	// Fuzzy is value~slop; slop is what follows the ~, often nothing.
	Fuzzy(field, term, slop string) (Query, error)
}

// SyntaxError is text the parser cannot read, with the position (in characters) where reading stopped.
type SyntaxError struct {
	Query string
	Pos   int
	Msg   string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Failed to parse query [%s]: %s at position %d", e.Query, e.Msg, e.Pos)
}

// Parse reads query text. It returns nil, and no error, for text that leaves no clause, such as blank text.
func Parse(text string, b Builder) (Query, error) {
	p := &parser{lx: lexer{src: []rune(text)}, b: b}
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	q, err := p.query("")
	if err == nil {
		var t token
		if t, err = p.peek(0); err == nil && t.kind != tokEOF {
			err = p.unexpected(t)
		}
	}
	if se, ok := err.(*SyntaxError); ok {
		se.Query = text
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

type conjunction int

const (
	conjNone conjunction = iota
	conjAnd
	conjOr
)

type modifier int

const (
	modNone modifier = iota
	modRequired
	modNot
)

type parser struct {
	lx      lexer
	ahead   []token
	b       Builder
	depth   int
	clauses int
}

func (p *parser) peek(n int) (token, error) {
	for len(p.ahead) <= n {
		t, err := p.lx.next()
		if err != nil {
			return token{}, err
		}
		p.ahead = append(p.ahead, t)
	}
	return p.ahead[n], nil
}

func (p *parser) take() (token, error) {
	t, err := p.peek(0)
	if err != nil {
		return token{}, err
	}
	p.ahead = p.ahead[1:]
	return t, nil
}

// expect takes a token of kind k, or fails with what stands there instead.
func (p *parser) expect(k kind, what string) (token, error) {
	t, err := p.take()
	if err != nil {
		return token{}, err
	}
	if t.kind != k {
		if t.kind == tokEOF {
			return token{}, &SyntaxError{Pos: t.pos, Msg: "the query ends where " + what + " was expected"}
		}
		return token{}, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%s was expected, not %q", what, t.image)}
	}
	return t, nil
}

func (p *parser) unexpected(t token) error {
	switch t.kind {
	case tokEOF:
		return &SyntaxError{Pos: t.pos, Msg: "the query ends where a term was expected"}
	case tokAnd, tokOr:
		return &SyntaxError{Pos: t.pos, Msg: t.image + " needs a term on each side"}
	case tokNot:
		return &SyntaxError{Pos: t.pos, Msg: t.image + " needs a term after it, and takes one NOT only"}
	case tokRParen:
		return &SyntaxError{Pos: t.pos, Msg: "this ) closes nothing, or comes where a term was expected"}
	case tokColon:
		return &SyntaxError{Pos: t.pos, Msg: `unexpected ":": a field name is a plain word, and a : in a value needs \ or quotes`}
	}
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.image)}
}

// multiTermAhead reports whether a run of plain words starts here: QueryParser's LOOKAHEAD for MultiTerm.
func (p *parser) multiTermAhead(at int) (bool, error) {
	for i := 0; i < 2; i++ {
		t, err := p.peek(at + i)
		if err != nil {
			return false, err
		}
		if t.kind != tokTerm {
			return false, nil
		}
	}
	after, err := p.peek(at + 2)
	if err != nil {
		return false, err
	}
	return allowedAfterMultiTerm(after.kind), nil
}

func allowedAfterMultiTerm(k kind) bool {
	switch k {
	case tokColon, tokStar, tokFuzzySlop, tokCarat, tokAnd, tokOr:
		return false
	}
	return true
}

// startsClause reports the tokens that continue a query: QueryParser's Query loop.
func startsClause(k kind) bool {
	switch k {
	case tokAnd, tokOr, tokNot, tokPlus, tokMinus, tokBareOper, tokLParen, tokStar, tokQuoted, tokTerm,
		tokPrefixTerm, tokWildTerm, tokRegexpTerm, tokRangeInStart, tokRangeExStart, tokNumber:
		return true
	}
	return false
}

func (p *parser) query(field string) (Query, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		t, _ := p.peek(0)
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("the query nests deeper than %d levels", MaxDepth)}
	}
	var clauses []Clause
	var first Query
	multi, err := p.multiTermAhead(0)
	if err != nil {
		return nil, err
	}
	if multi {
		if first, err = p.multiTerm(field, &clauses); err != nil {
			return nil, err
		}
	} else {
		mods, err := p.modifiers()
		if err != nil {
			return nil, err
		}
		q, err := p.clause(field)
		if err != nil {
			return nil, err
		}
		addClause(&clauses, conjNone, mods, q)
		if mods == modNone {
			first = q
		}
	}
	for {
		t, err := p.peek(0)
		if err != nil {
			return nil, err
		}
		if !startsClause(t.kind) {
			break
		}
		if multi, err = p.multiTermAhead(0); err != nil {
			return nil, err
		}
		if multi {
			if _, err := p.multiTerm(field, &clauses); err != nil {
				return nil, err
			}
			continue
		}
		conj := p.conjunction()
		mods, err := p.modifiers()
		if err != nil {
			return nil, err
		}
		q, err := p.clause(field)
		if err != nil {
			return nil, err
		}
		addClause(&clauses, conj, mods, q)
	}
	switch {
	case len(clauses) == 1 && first != nil:
		return first, nil
	case len(clauses) == 0:
		return nil, nil
	}
	return Boolean(clauses), nil
}

// addClause is QueryParserBase.addClause with AND as the default operator: an AND makes the clause before it
// required, an OR makes it optional, unless it is prohibited.
func addClause(clauses *[]Clause, conj conjunction, mods modifier, q Query) {
	if n := len(*clauses); n > 0 && (*clauses)[n-1].Occur != MustNot {
		switch conj {
		case conjAnd:
			(*clauses)[n-1].Occur = Must
		case conjOr:
			(*clauses)[n-1].Occur = Should
		}
	}
	if q == nil {
		return
	}
	occur := Should
	switch {
	case mods == modNot:
		occur = MustNot
	case conj != conjOr:
		occur = Must
	}
	*clauses = append(*clauses, Clause{Occur: occur, Query: q})
}

func (p *parser) conjunction() conjunction {
	t, _ := p.peek(0)
	switch t.kind {
	case tokAnd:
		p.ahead = p.ahead[1:]
		return conjAnd
	case tokOr:
		p.ahead = p.ahead[1:]
		return conjOr
	}
	return conjNone
}

func (p *parser) modifiers() (modifier, error) {
	t, err := p.peek(0)
	if err != nil {
		return modNone, err
	}
	switch t.kind {
	case tokPlus:
		p.ahead = p.ahead[1:]
		return modRequired, nil
	case tokMinus, tokNot:
		p.ahead = p.ahead[1:]
		return modNot, nil
	}
	return modNone, nil
}

// multiTerm reads a run of plain words as one text, which the Builder analyses as a whole for each field.
func (p *parser) multiTerm(field string, clauses *[]Clause) (Query, error) {
	first, err := p.take()
	if err != nil {
		return nil, err
	}
	text := first.image
	for {
		more, err := p.peek(0)
		if err != nil {
			return nil, err
		}
		after, err := p.peek(1)
		if err != nil {
			return nil, err
		}
		if more.kind != tokTerm || !allowedAfterMultiTerm(after.kind) {
			break
		}
		p.ahead = p.ahead[1:]
		text += " " + more.image
	}
	value, err := discardEscapes(text, first.pos)
	if err != nil {
		return nil, err
	}
	q, err := p.leaf(func() (Query, error) { return p.b.Field(field, value, false, 0) })
	if err != nil || q == nil {
		return nil, err
	}
	*clauses = append(*clauses, Clause{Occur: Must, Query: q})
	return q, nil
}

func (p *parser) clause(field string) (Query, error) {
	t0, err := p.peek(0)
	if err != nil {
		return nil, err
	}
	if t0.kind == tokTerm || t0.kind == tokStar {
		t1, err := p.peek(1)
		if err != nil {
			return nil, err
		}
		if t1.kind == tokColon {
			p.ahead = p.ahead[2:]
			field = "*"
			if t0.kind == tokTerm {
				if field, err = discardEscapes(t0.image, t0.pos); err != nil {
					return nil, err
				}
			}
		}
	}
	t, err := p.peek(0)
	if err != nil {
		return nil, err
	}
	if t.kind != tokLParen {
		return p.term(field)
	}
	p.ahead = p.ahead[1:]
	q, err := p.query(field)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen, "a ) to close the ( at position "+strconv.Itoa(t.pos)); err != nil {
		return nil, err
	}
	_, err = p.boost()
	return q, err
}

// boost reads an optional ^N. Boosts change scores only, and the simulator does not score.
func (p *parser) boost() (bool, error) {
	t, err := p.peek(0)
	if err != nil || t.kind != tokCarat {
		return false, err
	}
	p.ahead = p.ahead[1:]
	_, err = p.expect(tokNumber, "a boost number, as in ^2,")
	return true, err
}

// suffixes reads ^N and ~slop after a term, in either order, and returns the slop token when there is one.
func (p *parser) suffixes() (*token, error) {
	boosted, err := p.boost()
	if err != nil {
		return nil, err
	}
	t, err := p.peek(0)
	if err != nil {
		return nil, err
	}
	if t.kind != tokFuzzySlop {
		return nil, nil
	}
	p.ahead = p.ahead[1:]
	if !boosted {
		if _, err := p.boost(); err != nil {
			return nil, err
		}
	}
	return &t, nil
}

func (p *parser) leaf(build func() (Query, error)) (Query, error) {
	p.clauses++
	if p.clauses > MaxClauses {
		t, _ := p.peek(0)
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("the query has more than %d clauses", MaxClauses)}
	}
	return build()
}

func (p *parser) term(field string) (Query, error) {
	t, err := p.take()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tokTerm, tokStar, tokPrefixTerm, tokWildTerm, tokRegexpTerm, tokNumber, tokBareOper:
		if t.kind == tokBareOper {
			t.image = t.image[:1]
		}
		slop, err := p.suffixes()
		if err != nil {
			return nil, err
		}
		return p.bareToken(field, t, slop)
	case tokRangeInStart, tokRangeExStart:
		return p.rangeTerm(field, t)
	case tokQuoted:
		slop, err := p.suffixes()
		if err != nil {
			return nil, err
		}
		n := 0
		if slop != nil {
			n = javaFloatToInt(slop.image[1:], 0)
		}
		text, err := discardEscapes(t.image[1:len(t.image)-1], t.pos+1)
		if err != nil {
			return nil, err
		}
		return p.leaf(func() (Query, error) { return p.b.Field(field, text, true, n) })
	}
	return nil, p.unexpected(t)
}

// bareToken is QueryParserBase.handleBareTokenQuery.
func (p *parser) bareToken(field string, t token, slop *token) (Query, error) {
	text, err := discardEscapes(t.image, t.pos)
	if err != nil {
		return nil, err
	}
	return p.leaf(func() (Query, error) {
		switch {
		case t.kind == tokStar || t.kind == tokWildTerm:
			return p.b.Wildcard(field, t.image)
		case t.kind == tokPrefixTerm:
			prefix, err := discardEscapes(t.image[:len(t.image)-1], t.pos)
			if err != nil {
				return nil, err
			}
			return p.b.Prefix(field, prefix)
		case t.kind == tokRegexpTerm:
			return p.b.Regexp(field, t.image[1:len(t.image)-1])
		case slop != nil:
			return p.b.Fuzzy(field, text, slop.image[1:])
		}
		return p.b.Field(field, text, false, 0)
	})
}

func (p *parser) rangeTerm(field string, open token) (Query, error) {
	bound := func() (*string, error) {
		t, err := p.take()
		if err != nil {
			return nil, err
		}
		var image string
		switch t.kind {
		case tokRangeQuoted:
			image = t.image[1 : len(t.image)-1]
		case tokRangeGoop, tokRangeTo:
			if t.image == "*" {
				return nil, nil
			}
			image = t.image
		case tokEOF:
			return nil, &SyntaxError{Pos: open.pos, Msg: "the range opened here is never closed"}
		default:
			return nil, &SyntaxError{Pos: t.pos, Msg: "a range bound is missing: use * for an open end, as in [a TO *]"}
		}
		v, err := discardEscapes(image, t.pos)
		return &v, err
	}
	lo, err := bound()
	if err != nil {
		return nil, err
	}
	if t, err := p.take(); err != nil {
		return nil, err
	} else if t.kind != tokRangeTo {
		return nil, &SyntaxError{Pos: t.pos, Msg: "a range needs TO between its bounds, as in [a TO b]"}
	}
	hi, err := bound()
	if err != nil {
		return nil, err
	}
	end, err := p.take()
	if err != nil {
		return nil, err
	}
	if end.kind != tokRangeInEnd && end.kind != tokRangeExEnd {
		return nil, &SyntaxError{Pos: open.pos, Msg: "the range opened here is never closed with ] or }"}
	}
	if _, err := p.boost(); err != nil {
		return nil, err
	}
	return p.leaf(func() (Query, error) {
		return p.b.Range(field, lo, hi, open.kind == tokRangeInStart, end.kind == tokRangeInEnd)
	})
}

// discardEscapes is QueryParserBase.discardEscapeChar: \x stands for x, and \uXXXX for that character.
func discardEscapes(s string, pos int) (string, error) {
	var out strings.Builder
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		if runes[i] != '\\' {
			out.WriteRune(runes[i])
			continue
		}
		if i+1 >= len(runes) {
			return "", &SyntaxError{Pos: pos + i, Msg: "a term cannot end with the escape character \\"}
		}
		i++
		if runes[i] != 'u' {
			out.WriteRune(runes[i])
			continue
		}
		if i+4 >= len(runes) {
			return "", &SyntaxError{Pos: pos + i - 1, Msg: `a \u escape needs four hexadecimal digits`}
		}
		code, err := strconv.ParseUint(string(runes[i+1:i+5]), 16, 16)
		if err != nil {
			return "", &SyntaxError{Pos: pos + i - 1, Msg: `a \u escape needs four hexadecimal digits`}
		}
		out.WriteRune(rune(code))
		i += 4
	}
	return out.String(), nil
}

// ParseJavaFloat reads a number as Java's Float.parseFloat does, which the parser and Elasticsearch use for
// slops and fuzziness: a trailing f or d is allowed, and so are Infinity and NaN.
func ParseJavaFloat(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	switch strings.TrimPrefix(strings.TrimPrefix(t, "+"), "-") {
	case "Infinity", "NaN":
		f, _ := strconv.ParseFloat(strings.Replace(t, "Infinity", "Inf", 1), 32)
		return f, true
	}
	t = strings.TrimRight(t, "fFdD")
	f, err := strconv.ParseFloat(t, 32)
	if err != nil || strings.ContainsAny(t, "xXpP_") || strings.EqualFold(strings.TrimLeft(t, "+-"), "inf") {
		return 0, false
	}
	return f, true
}

// javaFloatToInt is Java's (int) Float.parseFloat(s), or fallback where that throws.
func javaFloatToInt(s string, fallback int) int {
	f, ok := ParseJavaFloat(s)
	switch {
	case !ok:
		return fallback
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(f)
}

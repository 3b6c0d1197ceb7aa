package lucene

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Regexp is a regular expression in Lucene's RegExp dialect (org.apache.lucene.util.automaton.RegExp with
// every optional operator), which is not Go's: & intersects, ~ complements, <1-20> is a numeric interval,
// @ is any string, # the empty language, "…" a literal string, and a special character where a character is
// expected stands for itself. It always matches a whole value.
type Regexp struct{ root *reNode }

type reOp int

const (
	reChars reOp = iota // one character of a class
	reString
	reEmptyLang
	reAnyString
	reConcat
	reUnion
	reInter
	reComplement
	reRepeat
	reInterval
)

type reNode struct {
	op       reOp
	class    func(rune) bool
	literal  []rune
	a, b     *reNode
	min, max int // repeat (max -1: no bound) and interval bounds
	digits   int // interval: a fixed width, or 0 for any number of leading zeros
	id       int
}

// CompileRegexp parses pattern, as written between the slashes of /pattern/.
func CompileRegexp(pattern string) (*Regexp, error) {
	p := &reParser{src: []rune(pattern)}
	if pattern == "" {
		return &Regexp{root: p.node(reNode{op: reString})}, nil
	}
	root, err := p.union()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("end-of-string expected at position %d", p.pos)
	}
	return &Regexp{root: root}, nil
}

type reParser struct {
	src   []rune
	pos   int
	nodes int
}

func (p *reParser) node(n reNode) *reNode {
	n.id = p.nodes
	p.nodes++
	return &n
}

func (p *reParser) more() bool { return p.pos < len(p.src) }

func (p *reParser) peek(chars string) bool {
	return p.more() && strings.ContainsRune(chars, p.src[p.pos])
}

func (p *reParser) match(c rune) bool {
	if p.more() && p.src[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *reParser) next() (rune, error) {
	if !p.more() {
		return 0, fmt.Errorf("unexpected end-of-string")
	}
	p.pos++
	return p.src[p.pos-1], nil
}

func (p *reParser) union() (*reNode, error) {
	e, err := p.inter()
	if err != nil || !p.match('|') {
		return e, err
	}
	f, err := p.union()
	if err != nil {
		return nil, err
	}
	return p.node(reNode{op: reUnion, a: e, b: f}), nil
}

func (p *reParser) inter() (*reNode, error) {
	e, err := p.concat()
	if err != nil || !p.match('&') {
		return e, err
	}
	f, err := p.inter()
	if err != nil {
		return nil, err
	}
	return p.node(reNode{op: reInter, a: e, b: f}), nil
}

func (p *reParser) concat() (*reNode, error) {
	e, err := p.repeat()
	if err != nil {
		return nil, err
	}
	if p.more() && !p.peek(")|&") {
		f, err := p.concat()
		if err != nil {
			return nil, err
		}
		return p.node(reNode{op: reConcat, a: e, b: f}), nil
	}
	return e, nil
}

func (p *reParser) number() (int, bool) {
	start := p.pos
	for p.peek("0123456789") {
		p.pos++
	}
	if start == p.pos {
		return 0, false
	}
	n, err := strconv.Atoi(string(p.src[start:p.pos]))
	return n, err == nil
}

func (p *reParser) repeat() (*reNode, error) {
	e, err := p.complement()
	if err != nil {
		return nil, err
	}
	for p.peek("?*+{") {
		switch c, _ := p.next(); c {
		case '?':
			e = p.node(reNode{op: reRepeat, a: e, min: 0, max: 1})
		case '*':
			e = p.node(reNode{op: reRepeat, a: e, min: 0, max: -1})
		case '+':
			e = p.node(reNode{op: reRepeat, a: e, min: 1, max: -1})
		case '{':
			n, ok := p.number()
			if !ok {
				return nil, fmt.Errorf("integer expected at position %d", p.pos)
			}
			m := n
			if p.match(',') {
				m = -1
				if v, ok := p.number(); ok {
					m = v
				}
			}
			if !p.match('}') {
				return nil, fmt.Errorf("expected '}' at position %d", p.pos)
			}
			if m != -1 && n > m {
				return nil, fmt.Errorf("invalid repetition {%d,%d}", n, m)
			}
			e = p.node(reNode{op: reRepeat, a: e, min: n, max: m})
		}
	}
	return e, nil
}

func (p *reParser) complement() (*reNode, error) {
	if !p.match('~') {
		return p.charClass()
	}
	e, err := p.complement()
	if err != nil {
		return nil, err
	}
	return p.node(reNode{op: reComplement, a: e}), nil
}

func (p *reParser) charClass() (*reNode, error) {
	if !p.match('[') {
		return p.simple()
	}
	negate := p.match('^')
	var parts []func(rune) bool
	for {
		part, err := p.classPart()
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		if !p.more() || p.peek("]") {
			break
		}
	}
	if !p.match(']') {
		return nil, fmt.Errorf("expected ']' at position %d", p.pos)
	}
	in := func(r rune) bool {
		for _, part := range parts {
			if part(r) {
				return true
			}
		}
		return false
	}
	if negate {
		return p.node(reNode{op: reChars, class: func(r rune) bool { return !in(r) }}), nil
	}
	return p.node(reNode{op: reChars, class: in}), nil
}

func (p *reParser) classPart() (func(rune) bool, error) {
	if class := p.predefined(); class != nil {
		return class, nil
	}
	lo, err := p.char()
	if err != nil {
		return nil, err
	}
	if !p.match('-') {
		return func(r rune) bool { return r == lo }, nil
	}
	hi, err := p.char()
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, fmt.Errorf("invalid range: from (%d) cannot be > to (%d)", lo, hi)
	}
	return func(r rune) bool { return r >= lo && r <= hi }, nil
}

// predefined reads \d, \s, \w and their complements.
func (p *reParser) predefined() func(rune) bool {
	if p.pos+1 >= len(p.src) || p.src[p.pos] != '\\' || !strings.ContainsRune("dDsSwW", p.src[p.pos+1]) {
		return nil
	}
	c := p.src[p.pos+1]
	p.pos += 2
	var class func(rune) bool
	switch c {
	case 'd', 'D':
		class = func(r rune) bool { return r >= '0' && r <= '9' }
	case 's', 'S':
		class = func(r rune) bool { return strings.ContainsRune(" \t\n\r\f\v", r) }
	default:
		class = func(r rune) bool {
			return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		}
	}
	if c >= 'A' && c <= 'Z' {
		return func(r rune) bool { return !class(r) }
	}
	return class
}

// char reads a character, escaped or not.
func (p *reParser) char() (rune, error) {
	p.match('\\')
	return p.next()
}

func (p *reParser) simple() (*reNode, error) {
	switch {
	case p.match('.'):
		return p.node(reNode{op: reChars, class: func(rune) bool { return true }}), nil
	case p.match('#'):
		return p.node(reNode{op: reEmptyLang}), nil
	case p.match('@'):
		return p.node(reNode{op: reAnyString}), nil
	case p.match('"'):
		start := p.pos
		for p.more() && !p.peek(`"`) {
			p.pos++
		}
		if !p.match('"') {
			return nil, fmt.Errorf("expected '\"' at position %d", p.pos)
		}
		return p.node(reNode{op: reString, literal: p.src[start : p.pos-1]}), nil
	case p.match('('):
		if p.match(')') {
			return p.node(reNode{op: reString}), nil
		}
		e, err := p.union()
		if err != nil {
			return nil, err
		}
		if !p.match(')') {
			return nil, fmt.Errorf("expected ')' at position %d", p.pos)
		}
		return e, nil
	case p.match('<'):
		return p.interval()
	}
	if class := p.predefined(); class != nil {
		return p.node(reNode{op: reChars, class: class}), nil
	}
	c, err := p.char()
	if err != nil {
		return nil, err
	}
	return p.node(reNode{op: reString, literal: []rune{c}}), nil
}

func (p *reParser) interval() (*reNode, error) {
	start := p.pos
	for p.more() && !p.peek(">") {
		p.pos++
	}
	if !p.match('>') {
		return nil, fmt.Errorf("expected '>' at position %d", p.pos)
	}
	s := string(p.src[start : p.pos-1])
	i := strings.IndexByte(s, '-')
	if i == -1 {
		return nil, fmt.Errorf("'%s' not found: named automata are not supported", s)
	}
	lo, hi := s[:i], s[i+1:]
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	if i == 0 || i == len(s)-1 || strings.Count(s, "-") != 1 || errA != nil || errB != nil {
		return nil, fmt.Errorf("interval syntax error at position %d", p.pos-1)
	}
	digits := 0
	if len(lo) == len(hi) {
		digits = len(lo)
	}
	return p.node(reNode{op: reInterval, min: min(a, b), max: max(a, b), digits: digits}), nil
}

// MatchString reports whether the whole of s is in the expression's language. It follows Brzozowski
// derivatives: after each character the expression becomes the language of what may still follow, and s
// matches when the last of them holds the empty string. Derivatives are interned, so equal ones are one term
// and each is worked out once per character; a value costs time linear in its length, whatever the pattern.
func (re *Regexp) MatchString(s string) bool {
	d := newDeriver()
	t := d.build(re.root)
	for _, c := range s {
		switch t {
		case d.none:
			return false
		case d.any:
			return true
		}
		t = d.derive(t, c)
	}
	return t.nullable
}

// term is an expression in the deriver's normal form: unions and intersections are flat, without repeats
// and ordered by id; concatenations nest to the right; the empty language, the empty string and the any
// string are single terms.
type term struct {
	op       reOp
	class    func(rune) bool // reChars
	literal  string          // reString
	parts    []*term         // reUnion, reInter
	a, b     *term           // reConcat, reComplement (a), reRepeat (a)
	min, max int             // reRepeat, reInterval
	digits   int             // reInterval
	prefix   string          // reInterval: the digits read so far, without leading zeros unless all are
	id       int
	nullable bool
}

type deriver struct {
	terms          map[string]*term
	next           map[deriveKey]*term
	none, eps, any *term
}

type deriveKey struct {
	id int
	c  rune
}

func newDeriver() *deriver {
	d := &deriver{terms: map[string]*term{}, next: map[deriveKey]*term{}}
	d.none = d.intern("#", term{op: reEmptyLang})
	d.eps = d.intern(`""`, term{op: reString, nullable: true})
	d.any = d.intern("@", term{op: reAnyString, nullable: true})
	return d
}

func (d *deriver) intern(key string, t term) *term {
	if got, ok := d.terms[key]; ok {
		return got
	}
	t.id = len(d.terms)
	d.terms[key] = &t
	return &t
}

func (d *deriver) build(n *reNode) *term {
	switch n.op {
	case reChars:
		return d.intern(fmt.Sprintf("[%d]", n.id), term{op: reChars, class: n.class})
	case reString:
		return d.str(string(n.literal))
	case reEmptyLang:
		return d.none
	case reAnyString:
		return d.any
	case reConcat:
		return d.concat(d.build(n.a), d.build(n.b))
	case reUnion:
		return d.union(d.build(n.a), d.build(n.b))
	case reInter:
		return d.inter(d.build(n.a), d.build(n.b))
	case reComplement:
		return d.complement(d.build(n.a))
	case reRepeat:
		return d.repeat(d.build(n.a), n.min, n.max)
	default:
		return d.interval(n.min, n.max, n.digits, "")
	}
}

func (d *deriver) str(s string) *term {
	if s == "" {
		return d.eps
	}
	return d.intern(strconv.Quote(s), term{op: reString, literal: s})
}

func (d *deriver) concat(a, b *term) *term {
	switch {
	case a == d.none || b == d.none:
		return d.none
	case a == d.eps:
		return b
	case b == d.eps:
		return a
	case a.op == reConcat:
		return d.concat(a.a, d.concat(a.b, b))
	}
	return d.intern(fmt.Sprintf("(%d.%d)", a.id, b.id), term{op: reConcat, a: a, b: b, nullable: a.nullable && b.nullable})
}

func (d *deriver) union(a, b *term) *term {
	if a == d.any || b == d.any {
		return d.any
	}
	return d.flat(reUnion, a, b, d.none)
}

func (d *deriver) inter(a, b *term) *term {
	switch {
	case a == d.none || b == d.none:
		return d.none
	case a == d.any:
		return b
	case b == d.any:
		return a
	}
	return d.flat(reInter, a, b, d.any)
}

// flat is the union or intersection of a and b with the parts of either that is one already, each part
// once, in order of id; neutral is the part that changes nothing.
func (d *deriver) flat(op reOp, a, b, neutral *term) *term {
	var parts []*term
	for _, t := range []*term{a, b} {
		if t.op == op {
			parts = append(parts, t.parts...)
		} else if t != neutral {
			parts = append(parts, t)
		}
	}
	slices.SortFunc(parts, func(x, y *term) int { return x.id - y.id })
	parts = slices.Compact(parts)
	switch len(parts) {
	case 0:
		return neutral
	case 1:
		return parts[0]
	}
	key := strings.Builder{}
	nullable := op == reInter
	for _, p := range parts {
		fmt.Fprintf(&key, "%d,", p.id)
		if op == reUnion {
			nullable = nullable || p.nullable
		} else {
			nullable = nullable && p.nullable
		}
	}
	return d.intern(fmt.Sprintf("%d{%s}", op, key.String()), term{op: op, parts: parts, nullable: nullable})
}

func (d *deriver) complement(a *term) *term {
	switch {
	case a == d.none:
		return d.any
	case a == d.any:
		return d.none
	case a.op == reComplement:
		return a.a
	}
	return d.intern(fmt.Sprintf("~%d", a.id), term{op: reComplement, a: a, nullable: !a.nullable})
}

// repeat is a repeated min to max times, max -1 for no bound.
func (d *deriver) repeat(a *term, min, max int) *term {
	switch {
	case max == 0 || a == d.eps:
		return d.eps
	case a == d.none:
		if min == 0 {
			return d.eps
		}
		return d.none
	case a == d.any || min == 1 && max == 1:
		return a
	case a.op == reRepeat && a.max == -1 && max == -1 && (a.min <= 1 && min <= 1):
		// (x*)*, (x+)* and (x*)+ are x*; (x+)+ is x+.
		return d.repeat(a.a, a.min*min, -1)
	}
	return d.intern(fmt.Sprintf("%d{%d,%d}", a.id, min, max),
		term{op: reRepeat, a: a, min: min, max: max, nullable: min == 0 || a.nullable})
}

// interval is Lucene's <min-max> having read prefix: a number in the range, written with exactly digits
// digits, or with any number of leading zeros when digits is 0.
func (d *deriver) interval(min, max, digits int, prefix string) *term {
	nullable := false
	if prefix != "" && (digits == 0 || len(prefix) == digits) {
		v, _ := strconv.Atoi(prefix)
		nullable = v >= min && v <= max
	}
	return d.intern(fmt.Sprintf("<%d-%d/%d:%s>", min, max, digits, prefix),
		term{op: reInterval, min: min, max: max, digits: digits, prefix: prefix, nullable: nullable})
}

// derive is the language of what may follow c in a word of t's.
func (d *deriver) derive(t *term, c rune) *term {
	key := deriveKey{t.id, c}
	if got, ok := d.next[key]; ok {
		return got
	}
	var out *term
	switch t.op {
	case reChars:
		out = d.none
		if t.class(c) {
			out = d.eps
		}
	case reString:
		out = d.none
		if first, size := utf8.DecodeRuneInString(t.literal); size > 0 && first == c {
			out = d.str(t.literal[size:])
		}
	case reEmptyLang:
		out = d.none
	case reAnyString:
		out = d.any
	case reConcat:
		out = d.concat(d.derive(t.a, c), t.b)
		if t.a.nullable {
			out = d.union(out, d.derive(t.b, c))
		}
	case reUnion, reInter:
		out = d.derive(t.parts[0], c)
		for _, p := range t.parts[1:] {
			if t.op == reUnion {
				out = d.union(out, d.derive(p, c))
			} else {
				out = d.inter(out, d.derive(p, c))
			}
		}
	case reComplement:
		out = d.complement(d.derive(t.a, c))
	case reRepeat:
		// Past the first repetition, a nullable a is no different from an empty one: (a{n,m})' is a'a{n-1,m-1}.
		rest := t.max
		if rest != -1 {
			rest--
		}
		out = d.concat(d.derive(t.a, c), d.repeat(t.a, max(t.min-1, 0), rest))
	case reInterval:
		out = d.intervalNext(t, c)
	}
	d.next[key] = out
	return out
}

func (d *deriver) intervalNext(t *term, c rune) *term {
	if c < '0' || c > '9' {
		return d.none
	}
	prefix := t.prefix + string(c)
	if t.digits == 0 && len(prefix) > 1 {
		prefix = strings.TrimLeft(prefix, "0")
		if prefix == "" {
			prefix = "0"
		}
	}
	significant := strings.TrimLeft(prefix, "0")
	v, _ := strconv.Atoi("0" + significant)
	if t.digits > 0 && len(prefix) > t.digits || len(significant) > 10 || v > t.max {
		return d.none // more digits only make it longer and larger
	}
	return d.interval(t.min, t.max, t.digits, prefix)
}

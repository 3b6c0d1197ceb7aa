package lucene

import (
	"fmt"
	"strconv"
	"strings"
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
			e = p.unbounded(e, 0)
		case '+':
			e = p.unbounded(e, 1)
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

// unbounded is e repeated at least min times, min 0 or 1. A repeat of what already matches any number of its
// own repetitions, and of the empty string, is that same language: @*, (x*)+ and (x+)* are @, x* and x*. Kept
// as one node, a pattern such as @***** is matched in the time of @, not once more per star.
func (p *reParser) unbounded(e *reNode, min int) *reNode {
	switch {
	case e.op == reAnyString:
		return e
	case e.op == reRepeat && e.max == -1 && e.min <= 1 && (e.min == 0 || min == 0):
		return p.node(reNode{op: reRepeat, a: e.a, min: 0, max: -1})
	case e.op == reRepeat && e.max == -1 && e.min == 1 && min == 1:
		return e
	}
	return p.node(reNode{op: reRepeat, a: e, min: min, max: -1})
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

// MatchString reports whether the whole of s is in the expression's language.
func (re *Regexp) MatchString(s string) bool {
	m := &reMatch{src: []rune(s), memo: map[[2]int][]bool{}}
	return m.ends(re.root, 0)[len(m.src)]
}

// reMatch finds, for a node and a start, every end such that the text between is in the node's language.
type reMatch struct {
	src  []rune
	memo map[[2]int][]bool
}

func (m *reMatch) ends(n *reNode, i int) []bool {
	key := [2]int{n.id, i}
	if got, ok := m.memo[key]; ok {
		return got
	}
	out := make([]bool, len(m.src)+1)
	m.memo[key] = out
	switch n.op {
	case reChars:
		if i < len(m.src) && n.class(m.src[i]) {
			out[i+1] = true
		}
	case reString:
		if i+len(n.literal) <= len(m.src) && string(m.src[i:i+len(n.literal)]) == string(n.literal) {
			out[i+len(n.literal)] = true
		}
	case reAnyString:
		for j := i; j <= len(m.src); j++ {
			out[j] = true
		}
	case reConcat:
		for j, ok := range m.ends(n.a, i) {
			if ok {
				union(out, m.ends(n.b, j))
			}
		}
	case reUnion:
		union(out, m.ends(n.a, i))
		union(out, m.ends(n.b, i))
	case reInter:
		a, b := m.ends(n.a, i), m.ends(n.b, i)
		for j := range out {
			out[j] = a[j] && b[j]
		}
	case reComplement:
		a := m.ends(n.a, i)
		for j := i; j <= len(m.src); j++ {
			out[j] = !a[j]
		}
	case reRepeat:
		m.repeat(n, i, out)
	case reInterval:
		m.interval(n, i, out)
	}
	return out
}

func union(into, from []bool) {
	for j, ok := range from {
		if ok {
			into[j] = true
		}
	}
}

// repeat follows the sets of ends after exactly k repetitions, keeping those with min ≤ k ≤ max, and stops
// once a set adds nothing to what the kept sets already reach.
func (m *reMatch) repeat(n *reNode, i int, out []bool) {
	cur := make([]bool, len(m.src)+1)
	cur[i] = true
	for k := 0; n.max == -1 || k <= n.max; k++ {
		if k >= n.min {
			fresh := false
			for j, ok := range cur {
				if ok && !out[j] {
					out[j], fresh = true, true
				}
			}
			if !fresh && k > n.min {
				return
			}
		}
		next := make([]bool, len(m.src)+1)
		any := false
		for j, ok := range cur {
			if ok {
				for e, ok := range m.ends(n.a, j) {
					if ok {
						next[e], any = true, true
					}
				}
			}
		}
		if !any {
			return
		}
		cur = next
	}
}

func (m *reMatch) interval(n *reNode, i int, out []bool) {
	for j := i + 1; j <= len(m.src) && m.src[j-1] >= '0' && m.src[j-1] <= '9'; j++ {
		digits := string(m.src[i:j])
		if n.digits > 0 && len(digits) != n.digits {
			continue
		}
		trimmed := strings.TrimLeft(digits, "0")
		if len(trimmed) > 10 {
			continue
		}
		v, _ := strconv.Atoi("0" + trimmed)
		if v >= n.min && v <= n.max {
			out[j] = true
		}
	}
}

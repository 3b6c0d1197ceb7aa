package lucene

import "strings"

// The lexer follows the token definitions of Lucene's classic QueryParser.jj: in each state it takes the
// longest token that matches, and among tokens of the same length the one the grammar declares first.

type kind int

const (
	tokEOF kind = iota
	tokAnd
	tokOr
	tokNot
	tokPlus
	tokMinus
	tokBareOper
	tokLParen
	tokRParen
	tokColon
	tokStar
	tokCarat
	tokQuoted
	tokTerm
	tokFuzzySlop
	tokPrefixTerm
	tokWildTerm
	tokRegexpTerm
	tokRangeInStart
	tokRangeExStart
	tokNumber
	tokRangeTo
	tokRangeInEnd
	tokRangeExEnd
	tokRangeQuoted
	tokRangeGoop
)

type token struct {
	kind  kind
	image string
	pos   int // in characters
}

type lexState int

const (
	stateDefault lexState = iota
	stateBoost
	stateRange
)

func isWhitespace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
}

// isTermStart reports the characters a term may start with, unescaped.
func isTermStart(r rune) bool {
	return !isWhitespace(r) && !strings.ContainsRune(`+-!():^[]"{}~*?\/`, r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

type lexer struct {
	src   []rune
	pos   int
	state lexState
}

// termChar measures one term character at i: an escaped character (two), a character ok accepts (one), or
// none (zero).
func (l *lexer) termChar(i int, ok func(rune) bool) int {
	if i >= len(l.src) {
		return 0
	}
	if l.src[i] == '\\' {
		if i+1 < len(l.src) {
			return 2
		}
		return 0
	}
	if ok(l.src[i]) {
		return 1
	}
	return 0
}

func isTermChar(r rune) bool { return isTermStart(r) || r == '-' || r == '+' }

func isWildChar(r rune) bool { return isTermChar(r) || r == '*' || r == '?' }

// run measures the longest run of characters at i that ok accepts, escapes included.
func (l *lexer) run(i int, ok func(rune) bool) int {
	n := 0
	for {
		w := l.termChar(i+n, ok)
		if w == 0 {
			return n
		}
		n += w
	}
}

func (l *lexer) hasPrefix(i int, s string) bool {
	r := []rune(s)
	return i+len(r) <= len(l.src) && string(l.src[i:i+len(r)]) == s
}

// next reads the next token, or a *SyntaxError for text no token matches.
func (l *lexer) next() (token, error) {
	switch l.state {
	case stateBoost:
		return l.boost()
	case stateRange:
		return l.rangeToken()
	}
	for l.pos < len(l.src) && isWhitespace(l.src[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: l.pos}, nil
	}
	best, bestLen := tokEOF, 0
	try := func(k kind, n int) {
		if n > bestLen {
			best, bestLen = k, n
		}
	}
	i := l.pos
	c := l.src[i]
	switch {
	case l.hasPrefix(i, "AND"):
		try(tokAnd, 3)
	case l.hasPrefix(i, "&&"):
		try(tokAnd, 2)
	case l.hasPrefix(i, "OR"), l.hasPrefix(i, "||"):
		try(tokOr, 2)
	case l.hasPrefix(i, "NOT"):
		try(tokNot, 3)
	}
	switch c {
	case '!':
		try(tokNot, 1)
	case '+':
		try(tokPlus, 1)
	case '-':
		try(tokMinus, 1)
	case '(':
		try(tokLParen, 1)
	case ')':
		try(tokRParen, 1)
	case ':':
		try(tokColon, 1)
	case '*':
		try(tokStar, 1)
	case '^':
		try(tokCarat, 1)
	case '[':
		try(tokRangeInStart, 1)
	case '{':
		try(tokRangeExStart, 1)
	case '"':
		try(tokQuoted, l.quoted(i))
	case '~':
		try(tokFuzzySlop, 1+l.run(i+1, isTermChar))
	case '/':
		try(tokRegexpTerm, l.regexp(i))
	}
	if strings.ContainsRune("+-!", c) && i+1 < len(l.src) && isWhitespace(l.src[i+1]) {
		try(tokBareOper, 2)
	}
	if start := l.termChar(i, isTermStart); start > 0 {
		n := start + l.run(i+start, isTermChar)
		try(tokTerm, n)
		if i+n < len(l.src) && l.src[i+n] == '*' {
			try(tokPrefixTerm, n+1)
		}
	}
	if start := l.termChar(i, func(r rune) bool { return isTermStart(r) || r == '*' || r == '?' }); start > 0 {
		try(tokWildTerm, start+l.run(i+start, isWildChar))
	}
	if bestLen == 0 {
		return token{}, &SyntaxError{Pos: i, Msg: lexicalMessage(l.src, i)}
	}
	t := token{kind: best, image: string(l.src[i : i+bestLen]), pos: i}
	l.pos += bestLen
	switch best {
	case tokCarat:
		l.state = stateBoost
	case tokRangeInStart, tokRangeExStart:
		l.state = stateRange
	}
	return t, nil
}

func lexicalMessage(src []rune, i int) string {
	switch src[i] {
	case '"':
		return "the quote opened here is never closed"
	case '/':
		return "the regular expression opened here is never closed: escape a / that is part of a value as \\/"
	case '\\':
		return "the query ends with a lone backslash"
	}
	return "unexpected " + string(src[i]) + ": escape it with \\ or put the value in quotes"
}

// quoted measures "…" at i, escapes included; 0 when it is never closed.
func (l *lexer) quoted(i int) int {
	for j := i + 1; j < len(l.src); j++ {
		switch l.src[j] {
		case '\\':
			if j+1 >= len(l.src) {
				return 0
			}
			j++
		case '"':
			return j - i + 1
		}
	}
	return 0
}

// regexp measures /…/ at i: "/" ( ~["/"] | "\\/" )* "/", the longest such; 0 when none ends.
func (l *lexer) regexp(i int) int {
	// States: in the body, or just after a backslash that may begin an escaped slash.
	body, afterBackslash := true, false
	longest := 0
	for j := i + 1; j < len(l.src) && (body || afterBackslash); j++ {
		c := l.src[j]
		nextBody, nextAfter := false, false
		if c == '/' {
			if body {
				longest = j - i + 1
			}
			nextBody = afterBackslash
		} else {
			nextBody = body || afterBackslash
			nextAfter = c == '\\' && nextBody
		}
		body, afterBackslash = nextBody, nextAfter
	}
	return longest
}

func (l *lexer) boost() (token, error) {
	i := l.pos
	n := 0
	for i+n < len(l.src) && isDigit(l.src[i+n]) {
		n++
	}
	if n > 0 && i+n+1 < len(l.src) && l.src[i+n] == '.' && isDigit(l.src[i+n+1]) {
		n++
		for i+n < len(l.src) && isDigit(l.src[i+n]) {
			n++
		}
	}
	if n == 0 {
		return token{}, &SyntaxError{Pos: i, Msg: "^ needs a boost number, as in ^2"}
	}
	l.pos += n
	l.state = stateDefault
	return token{kind: tokNumber, image: string(l.src[i : i+n]), pos: i}, nil
}

func (l *lexer) rangeToken() (token, error) {
	for {
		if l.pos >= len(l.src) {
			return token{kind: tokEOF, pos: l.pos}, nil
		}
		i := l.pos
		best, bestLen := tokEOF, 0
		try := func(k kind, n int) {
			if n > bestLen {
				best, bestLen = k, n
			}
		}
		skip := isWhitespace(l.src[i])
		if skip {
			bestLen = 1 // a whitespace is skipped unless a longer token starts with it
		}
		if l.hasPrefix(i, "TO") {
			try(tokRangeTo, 2)
		}
		switch l.src[i] {
		case ']':
			try(tokRangeInEnd, 1)
		case '}':
			try(tokRangeExEnd, 1)
		case '"':
			try(tokRangeQuoted, l.rangeQuoted(i))
		}
		n := 0
		for i+n < len(l.src) && !strings.ContainsRune(" ]}", l.src[i+n]) {
			n++
		}
		try(tokRangeGoop, n)
		if bestLen == 0 {
			return token{}, &SyntaxError{Pos: i, Msg: "unexpected " + string(l.src[i])}
		}
		l.pos += bestLen
		if best == tokEOF { // whitespace
			continue
		}
		if best == tokRangeInEnd || best == tokRangeExEnd {
			l.state = stateDefault
		}
		return token{kind: best, image: string(l.src[i : i+bestLen]), pos: i}, nil
	}
}

// rangeQuoted measures "\"" ( ~["\""] | "\\\"" )+ "\"" at i, the longest such.
func (l *lexer) rangeQuoted(i int) int {
	longest := 0
	body, afterBackslash, chars := true, false, 0
	for j := i + 1; j < len(l.src) && (body || afterBackslash); j++ {
		c := l.src[j]
		nextBody, nextAfter := false, false
		if c == '"' {
			if body && chars > 0 {
				longest = j - i + 1
			}
			nextBody = afterBackslash
		} else {
			nextBody = true
			nextAfter = c == '\\'
		}
		chars++
		body, afterBackslash = nextBody, nextAfter
	}
	return longest
}

// Package lucene parses the Lucene query-string syntax that Carbon Black Cloud's audit log search takes (the
// syntax Elasticsearch documents for query_string) into a tree. It knows nothing of fields' types: the
// simulator gives the tree its meaning.
package lucene

// Query is a node of a parsed query.
type Query interface{ isQuery() }

// And matches what every clause matches.
type And []Query

// Or matches what any clause matches.
type Or []Query

// Not matches what its query does not.
type Not struct{ Query Query }

// MatchAll is *:*, or a lone * for the default field.
type MatchAll struct{}

// Exists is _exists_:field, or field:*.
type Exists struct{ Field string }

// Term is one value with no wildcard: field:value, or a bare value for the default field ("").
type Term struct{ Field, Value string }

// Phrase is field:"several words", with a proximity slop from "…"~N.
type Phrase struct {
	Field, Value string
	Slop         int
}

// Wildcard is a value with * (any run of characters) or ? (one character). Pattern is an anchored Go regular
// expression for the whole value; Text is the value as written, escapes removed.
type Wildcard struct{ Field, Pattern, Text string }

// Regexp is field:/pattern/; Lucene anchors it to the whole value.
type Regexp struct{ Field, Pattern string }

// Fuzzy is value~N: values within N edits (insertions, deletions, substitutions, transpositions).
type Fuzzy struct {
	Field, Value string
	Edits        int
}

// Range is [lo TO hi], {lo TO hi}, a mix of both, or >, >=, <, <=. An empty bound is open (*).
type Range struct {
	Field                string
	Lo, Hi               string
	IncludeLo, IncludeHi bool
}

func (And) isQuery()      {}
func (Or) isQuery()       {}
func (Not) isQuery()      {}
func (MatchAll) isQuery() {}
func (Exists) isQuery()   {}
func (Term) isQuery()     {}
func (Phrase) isQuery()   {}
func (Wildcard) isQuery() {}
func (Regexp) isQuery()   {}
func (Fuzzy) isQuery()    {}
func (Range) isQuery()    {}

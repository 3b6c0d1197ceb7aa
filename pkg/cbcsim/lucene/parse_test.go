package lucene

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseTrees(t *testing.T) {
	cases := map[string]Query{
		``:                      MatchAll{},
		`a b`:                   And{Term{Value: "a"}, Term{Value: "b"}},
		`a OR b AND c`:          Or{Term{Value: "a"}, And{Term{Value: "b"}, Term{Value: "c"}}},
		`a || b && !c`:          Or{Term{Value: "a"}, And{Term{Value: "b"}, Not{Term{Value: "c"}}}},
		`+a -b`:                 And{Term{Value: "a"}, Not{Term{Value: "b"}}},
		`NOT NOT a`:             Not{Not{Term{Value: "a"}}},
		`ANDROID OR ORACLE`:     Or{Term{Value: "ANDROID"}, Term{Value: "ORACLE"}},
		`f:(a OR b:c)`:          Or{Term{Field: "f", Value: "a"}, Term{Field: "b", Value: "c"}},
		`f:"x \"y\""~3^2`:       Phrase{Field: "f", Value: `x "y"`, Slop: 3},
		`f:a\:b\ c`:             Term{Field: "f", Value: "a:b c"},
		`f:a\*`:                 Term{Field: "f", Value: "a*"},
		`f:a*b?`:                Wildcard{Field: "f", Pattern: `^(?s:a.*b.)$`, Text: "a*b?"},
		`f:*`:                   Exists{Field: "f"},
		`_exists_:f`:            Exists{Field: "f"},
		`*:*`:                   MatchAll{},
		`f:/a\/b.*/`:            Regexp{Field: "f", Pattern: "a/b.*"},
		`f:abc~`:                Fuzzy{Field: "f", Value: "abc", Edits: 2},
		`f:abc~1`:               Fuzzy{Field: "f", Value: "abc", Edits: 1},
		`f:abcdefghij~0.7`:      Fuzzy{Field: "f", Value: "abcdefghij", Edits: 2},
		`f:[1 TO 5}`:            Range{Field: "f", Lo: "1", Hi: "5", IncludeLo: true},
		`f:{* TO "x y"]`:        Range{Field: "f", Hi: "x y", IncludeHi: true},
		`f:>=now-1d`:            Range{Field: "f", Lo: "now-1d", IncludeLo: true},
		`f:<5`:                  Range{Field: "f", Hi: "5"},
		`(a OR b)^3 c`:          And{Or{Term{Value: "a"}, Term{Value: "b"}}, Term{Value: "c"}},
		"a\u3000b":              And{Term{Value: "a"}, Term{Value: "b"}},
		`a-b+c`:                 Term{Value: "a-b+c"},
		`x!y`:                   And{Term{Value: "x"}, Not{Term{Value: "y"}}},
		`description:Logged in`: And{Term{Field: "description", Value: "Logged"}, Term{Value: "in"}},
	}
	for q, want := range cases {
		got, err := Parse(q)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %#v\nwant %#v", q, got, want)
		}
	}
}

func TestParseErrorsSayWhere(t *testing.T) {
	cases := map[string]int{
		`f:"open`:          2,
		`(a OR b`:          0,
		`a OR`:             4,
		`AND a`:            0,
		`a )`:              2,
		`f:[a TO b`:        2,
		`f:[a b]`:          5,
		`f:/[/`:            2,
		`f:`:               2,
		`a^`:               2,
		`a\`:               1,
		`f:[* TO *]^x OR`:  11,
		`f:(a OR (b) OR c`: 2,
	}
	for q, pos := range cases {
		_, err := Parse(q)
		var syntax *SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("%q: %v, want a syntax error", q, err)
			continue
		}
		if syntax.Pos != pos {
			t.Errorf("%q: error at %d (%v), want %d", q, syntax.Pos, err, pos)
		}
	}
}

// Hostile queries are refused by the bounds, not by exhausting the stack.
func TestParseBounds(t *testing.T) {
	for _, q := range []string{
		strings.Repeat("(", 1<<21),
		strings.Repeat("NOT ", 1<<20) + "a",
		strings.Repeat("-", 1<<20) + "a",
		strings.Repeat("a ", MaxClauses+1),
	} {
		if _, err := Parse(q); err == nil {
			t.Errorf("a %d-character hostile query parsed", len(q))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{`a AND (b OR "c d"~2)`, `f:[a TO *]`, `f:/x.*/`, `-a +b !c`, `f:a\*b?~1^2`, `_exists_:x`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = Parse(q)
	})
}

// The editors check query text with the npm lucene parser before it is sent (src/validation.ts). Both checks
// must agree with each line of tests/lucene-syntax.json, so the editor neither refuses a query CBC runs nor
// sends one CBC refuses.
func TestSharedSyntaxCases(t *testing.T) {
	raw, err := os.ReadFile("../../../tests/lucene-syntax.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases struct{ Valid, Invalid []string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.Valid) == 0 || len(cases.Invalid) == 0 {
		t.Fatal("tests/lucene-syntax.json has no cases")
	}
	for _, q := range cases.Valid {
		if _, err := Parse(q); err != nil {
			t.Errorf("listed as valid, refused: %v", err)
		}
	}
	for _, q := range cases.Invalid {
		if _, err := Parse(q); err == nil {
			t.Errorf("listed as invalid, accepted: %q", q)
		}
	}
}

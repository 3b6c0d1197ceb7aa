package lucene

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// leaves records each leaf as text, so that a test can read the tree the parser builds.
type leaves struct{}

func (leaves) Field(field, text string, quoted bool, slop int) (Query, error) {
	if quoted {
		return fmt.Sprintf("%s:%q~%d", field, text, slop), nil
	}
	return field + ":" + text, nil
}
func (leaves) Range(field string, lo, hi *string, includeLo, includeHi bool) (Query, error) {
	show := func(s *string) string {
		if s == nil {
			return "*"
		}
		return *s
	}
	return fmt.Sprintf("%s:%v%s TO %s%v", field, includeLo, show(lo), show(hi), includeHi), nil
}
func (leaves) Wildcard(field, pattern string) (Query, error) {
	return "wild " + field + ":" + pattern, nil
}
func (leaves) Prefix(field, prefix string) (Query, error) {
	return "prefix " + field + ":" + prefix, nil
}
func (leaves) Regexp(field, pattern string) (Query, error) {
	return "regexp " + field + ":" + pattern, nil
}
func (leaves) Fuzzy(field, term, slop string) (Query, error) {
	return "fuzzy " + field + ":" + term + "~" + slop, nil
}

func TestParseTrees(t *testing.T) {
	must := func(q Query) Clause { return Clause{Must, q} }
	should := func(q Query) Clause { return Clause{Should, q} }
	not := func(q Query) Clause { return Clause{MustNot, q} }
	cases := map[string]Query{
		`a`:                     ":a",
		`a b`:                   ":a b",
		`a OR b AND c`:          Boolean{should(":a"), must(":b"), must(":c")},
		`x OR NOT y`:            Boolean{should(":x"), not(":y")},
		`+a OR b`:               Boolean{should(":a"), should(":b")},
		`-a`:                    Boolean{not(":a")},
		`a b OR c`:              Boolean{must(":a"), should(":b"), should(":c")},
		`a b c OR d`:            Boolean{must(":a b"), should(":c"), should(":d")},
		`f:(a OR b:c)`:          Boolean{should("f:a"), should("b:c")},
		`description:Logged in`: Boolean{must("description:Logged"), must(":in")},
		`actor: alice`:          "actor:alice",
		`f:"x \"y\""~3^2`:       `f:"x \"y\""~3`,
		`f:a\:b\ c`:             "f:a:b c",
		`f:\u0061`:              "f:a",
		`f:a*b?`:                "wild f:a*b?",
		`f:a\*b*`:               "prefix f:a*b",
		`f:ab*`:                 "prefix f:ab",
		`*:*`:                   "wild *:*",
		`f:/a\/b.*/`:            `regexp f:a\/b.*`,
		`f:abc~`:                "fuzzy f:abc~",
		`f:abc~1^2`:             "fuzzy f:abc~1",
		`f:[1 TO 5}`:            "f:true1 TO 5false",
		`f:{* TO "x y"]`:        "f:false* TO x ytrue",
		`f:>=now\/d`:            "f:>=now/d",
		`ANDROID OR ORACLE`:     Boolean{should(":ANDROID"), should(":ORACLE")},
		`a - b`:                 Boolean{must(":a"), must(":-"), must(":b")},
		`(a OR b)^3 c`:          Boolean{must(Boolean{should(":a"), should(":b")}), must(":c")},
	}
	for text, want := range cases {
		got, err := Parse(text, leaves{})
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %#v\nwant %#v", text, got, want)
		}
	}
}

func TestSyntaxErrorsSayWhere(t *testing.T) {
	cases := map[string]int{
		`f:"open`:             2,
		`(a OR b`:             7,
		`a OR`:                4,
		`AND a`:               0,
		`NOT NOT a`:           4,
		`create_time:>=now/d`: 17,
		`f:[a TO b`:           2,
		`a^`:                  2,
		`a]`:                  1,
		`x\`:                  1,
	}
	for text, pos := range cases {
		_, err := Parse(text, leaves{})
		var syntax *SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("%q: %v, want a syntax error", text, err)
			continue
		}
		if syntax.Pos != pos {
			t.Errorf("%q: error at %d (%s), want %d", text, syntax.Pos, syntax.Msg, pos)
		}
	}
}

func TestRegexpDialect(t *testing.T) {
	cases := []struct {
		pattern, value string
		match          bool
	}{
		{`<10-20>`, "15", true},
		{`<10-20>`, "9", false},
		{`<10-20>`, "21", false},
		{`<1-100>`, "007", true},
		{`<01-10>`, "7", false},
		{`<01-10>`, "07", true},
		{`.*@acme&~(alice.*)`, "bob@acme", true},
		{`.*@acme&~(alice.*)`, "alice@acme", false},
		{`@`, "anything", true},
		{`#`, "", false},
		{`"a.b"`, "a.b", true},
		{`"a.b"`, "axb", false},
		{`a.b`, "axb", true},
		{`\d+`, "2024", true},
		{`[^a-c]x`, "dx", true},
		{`[^a-c]x`, "ax", false},
		{`(ab){2,3}`, "ababab", true},
		{`(ab){2,3}`, "ab", false},
		{`Log.*`, "logged", false},
		{`*a`, "*a", true},
		{``, "", true},
		{`a+?`, "", true},
	}
	for _, c := range cases {
		re, err := CompileRegexp(c.pattern)
		if err != nil {
			t.Errorf("/%s/: %v", c.pattern, err)
			continue
		}
		if got := re.MatchString(c.value); got != c.match {
			t.Errorf("/%s/ on %q: %v, want %v", c.pattern, c.value, got, c.match)
		}
	}
	for _, bad := range []string{`(`, `a)`, `[a`, `a{2`, `<a>`, `<1-2-3>`, `a{3,1}`, `\`} {
		if _, err := CompileRegexp(bad); err == nil {
			t.Errorf("/%s/ compiled", bad)
		}
	}
}

// TestRegexpOnLongValues: patterns whose stars nest, or whose parts overlap, answer for a long value as they do
// for a short one; matching that tried every way to split the value would not finish.
func TestRegexpOnLongValues(t *testing.T) {
	long := strings.Repeat("t", 20000)
	cases := []struct {
		pattern string
		match   bool
	}{
		{`@*****`, true},
		{`(t*t*)*x`, false},
		{`((t|tt)+)+`, true},
		{`(.*t.*)&~(.*tt.*)`, false},
		{`(t{2,}){3,}&(tt)*`, true},
		{`<1-9>.*`, false},
	}
	for _, c := range cases {
		re, err := CompileRegexp(c.pattern)
		if err != nil {
			t.Fatalf("/%s/: %v", c.pattern, err)
		}
		if got := re.MatchString(long); got != c.match {
			t.Errorf("/%s/ on %d t's: %v, want %v", c.pattern, len(long), got, c.match)
		}
	}
}

// FuzzParse: no text makes the parser panic or loop; what it refuses is a SyntaxError.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{`a OR b AND c`, `f:"x"~2^3`, `create_time:[now-1d/d TO *}`, `f:/a\/b/`, `(a (b (c)))`,
		`x\u0061 \`, `a~1.5f`, `!a - b + c`, `*:* AND _exists_:f`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, err := Parse(text, leaves{})
		var syntax *SyntaxError
		if err != nil && !errors.As(err, &syntax) {
			t.Fatalf("%q: %v is not a SyntaxError", text, err)
		}
	})
}

func FuzzRegexp(f *testing.F) {
	for _, seed := range []string{`<1-20>`, `a&~(b)`, `[^a-z]{2,}`, `(a|b)*c+`, `"x"@#`} {
		f.Add(seed, "ab12")
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if re, err := CompileRegexp(pattern); err == nil {
			re.MatchString(value)
		}
	})
}

package cbc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CBC's search, queue and record bodies are flat JSON: a few numbers and a list of objects of strings and
// booleans. They are read here by hand rather than with encoding/json, whose reflection (and a second parse
// per record for Record's own rules) took longer than the network: a page of 10000 records decoded at 28 MB/s.
// Strings holding escapes or non-ASCII bytes still go through encoding/json, so every value reads the same.

// decodeEnvelope reads {"num_found", "num_available", "results": [...]} of at most rows records (0: unknown).
// It holds one body at a time: memory follows the records kept, plus one page being read.
func decodeEnvelope(r io.Reader, rows int) (SearchResponse, error) {
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return SearchResponse{}, err
	}
	var page SearchResponse
	d := &jsonReader{buf: buf.Bytes(), interned: make(map[string]string)}
	err := d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "num_found":
			page.NumFound, err = d.integer()
		case "num_available":
			page.NumAvailable, err = d.integer()
		case "results":
			if rows > 0 && page.NumFound > 0 {
				rows = min(rows, page.NumFound)
			}
			page.Results = make([]Record, 0, max(rows, 0))
			err = d.records(func(rec Record) { page.Results = append(page.Results, rec) })
		default:
			err = d.skip()
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return SearchResponse{}, truncatedOr(buf.Bytes(), err)
	}
	return page, nil
}

// truncatedOr reports a body that ends before its JSON does as io.ErrUnexpectedEOF, as encoding/json's
// decoder would, whatever the reader was reading when it ran out: a cut-short body is worth a retry.
func truncatedOr(body []byte, err error) error {
	var v any
	if errors.Is(json.NewDecoder(bytes.NewReader(body)).Decode(&v), io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// bodies are reused page buffers: a page of 10000 records is a few megabytes.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// UnmarshalJSON accepts null or absent fields and timestamps with or without fractions of a second.
func (r *Record) UnmarshalJSON(b []byte) error {
	d := &jsonReader{buf: b}
	rec, err := d.record()
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// jsonReader reads JSON values from a complete body.
type jsonReader struct {
	buf []byte
	pos int
	// interned holds one copy of each string value read: a page repeats the same actors, IPs, org key and
	// many descriptions, so the records it yields share them. Nil means no interning.
	interned map[string]string
}

func (d *jsonReader) syntaxError(want string) error {
	if d.pos >= len(d.buf) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid JSON at byte %d: found %q, want %s", d.pos, d.buf[d.pos], want)
}

// next skips white space and returns the next byte without consuming it.
func (d *jsonReader) next() (byte, error) {
	for d.pos < len(d.buf) {
		switch c := d.buf[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return c, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// end checks that nothing but white space follows the value read.
func (d *jsonReader) end() error {
	if c, err := d.next(); err == nil {
		return fmt.Errorf("unexpected %q after the end of the response", c)
	}
	return nil
}

func (d *jsonReader) consume(want byte) error {
	c, err := d.next()
	if err != nil {
		return err
	}
	if c != want {
		return d.syntaxError(strconv.QuoteRune(rune(want)))
	}
	d.pos++
	return nil
}

// sequence reads open, elements separated by commas, and close: an object's members or a list's values.
func (d *jsonReader) sequence(open, close byte, element func() error) error {
	if err := d.consume(open); err != nil {
		return err
	}
	if c, err := d.next(); err != nil {
		return err
	} else if c == close {
		d.pos++
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		c, err := d.next()
		if err != nil {
			return err
		}
		switch c {
		case ',':
			d.pos++
		case close:
			d.pos++
			return nil
		default:
			return d.syntaxError(fmt.Sprintf("%q or %q", ',', close))
		}
	}
}

// object reads {"key": value, ...}, calling onKey to read each value.
func (d *jsonReader) object(onKey func(key []byte) error) error {
	return d.sequence('{', '}', func() error {
		key, err := d.key()
		if err != nil {
			return err
		}
		if err := d.consume(':'); err != nil {
			return err
		}
		return onKey(key)
	})
}

// records reads the results list (or null), handing each record to onRecord.
func (d *jsonReader) records(onRecord func(Record)) error {
	if d.literal("null") {
		return nil
	}
	return d.sequence('[', ']', func() error {
		rec, err := d.record()
		if err == nil {
			onRecord(rec)
		}
		return err
	})
}

// record reads one audit log object; unknown fields are skipped, null fields stay empty.
func (d *jsonReader) record() (Record, error) {
	var r Record
	if d.literal("null") {
		return r, nil
	}
	err := d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "actor":
			r.Actor, err = d.optionalString(key)
		case "actor_ip":
			r.ActorIP, err = d.optionalString(key)
		case "description":
			r.Description, err = d.optionalString(key)
		case "org_key":
			r.OrgKey, err = d.optionalString(key)
		case "request_url":
			r.RequestURL, err = d.optionalString(key)
		case "flagged":
			r.Flagged, err = d.optionalBool(key)
		case "verbose":
			r.Verbose, err = d.optionalBool(key)
		case "create_time":
			var s string
			if s, err = d.optionalString(key); err == nil && s != "" {
				r.CreateTime, err = parseTime(s)
			}
		default:
			err = d.skip()
		}
		return err
	})
	return r, err
}

// literal consumes word (true, false, null) when it comes next.
func (d *jsonReader) literal(word string) bool {
	if _, err := d.next(); err != nil {
		return false
	}
	if bytes.HasPrefix(d.buf[d.pos:], []byte(word)) {
		d.pos += len(word)
		return true
	}
	return false
}

func (d *jsonReader) optionalString(key []byte) (string, error) {
	c, err := d.next()
	switch {
	case err != nil:
		return "", err
	case c == '"':
		return d.string()
	case d.literal("null"):
		return "", nil
	}
	return "", d.typeError(key, "a string")
}

func (d *jsonReader) optionalBool(key []byte) (bool, error) {
	switch {
	case d.literal("true"):
		return true, nil
	case d.literal("false"), d.literal("null"):
		return false, nil
	}
	return false, d.typeError(key, "true or false")
}

func (d *jsonReader) typeError(key []byte, want string) error {
	if d.pos >= len(d.buf) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s at byte %d is %q…, want %s", key, d.pos, d.buf[d.pos:min(d.pos+20, len(d.buf))], want)
}

// integer reads a whole number; null reads as 0.
func (d *jsonReader) integer() (int, error) {
	if _, err := d.next(); err != nil {
		return 0, err
	}
	if d.literal("null") {
		return 0, nil
	}
	start := d.pos
	for d.pos < len(d.buf) && (d.buf[d.pos] == '-' || d.buf[d.pos] >= '0' && d.buf[d.pos] <= '9') {
		d.pos++
	}
	if d.pos == len(d.buf) {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := strconv.Atoi(string(d.buf[start:d.pos]))
	if err != nil || !jsonNumber.Match(d.buf[start:d.pos]) {
		d.pos = start
		return 0, d.syntaxError("a whole number")
	}
	return n, nil
}

// jsonNumber is the grammar of a JSON number: no leading zeros, no plus sign, digits on both sides of a point.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// key reads an object key. Keys with escapes are decoded, so "act\u006fr" is actor, as for encoding/json.
func (d *jsonReader) key() ([]byte, error) {
	start, raw, err := d.quoted()
	if raw != nil || err != nil {
		return raw, err
	}
	var s string
	err = json.Unmarshal(d.buf[start:d.pos], &s)
	return []byte(s), err
}

// string reads a string value, sharing one copy of each distinct value when the reader interns.
func (d *jsonReader) string() (string, error) {
	start, raw, err := d.quoted()
	if err != nil {
		return "", err
	}
	if raw == nil { // escapes or non-ASCII: let encoding/json decode it exactly
		var s string
		err := json.Unmarshal(d.buf[start:d.pos], &s)
		return s, err
	}
	if d.interned == nil {
		return string(raw), nil
	}
	if s, ok := d.interned[string(raw)]; ok {
		return s, nil
	}
	s := string(raw)
	d.interned[s] = s
	return s, nil
}

// quoted reads a string and returns where its opening quote is and its bytes, or nil bytes when it holds
// escapes or non-ASCII bytes (the caller then decodes buf[start:pos] with encoding/json).
func (d *jsonReader) quoted() (start int, raw []byte, err error) {
	if _, err := d.next(); err != nil {
		return 0, nil, err
	}
	start = d.pos
	raw, err = d.stringBytes()
	return start, raw, err
}

// stringBytes reads a string and returns its bytes, or nil bytes when it holds escapes or non-ASCII bytes.
func (d *jsonReader) stringBytes() ([]byte, error) {
	if err := d.consume('"'); err != nil {
		return nil, err
	}
	start := d.pos
	end := bytes.IndexByte(d.buf[start:], '"')
	if end < 0 {
		return nil, io.ErrUnexpectedEOF
	}
	text := d.buf[start : start+end]
	if bytes.IndexByte(text, '\\') < 0 { // the common case: the first quote ends the string
		plain := true
		for i, c := range text {
			if c < 0x20 {
				d.pos = start + i
				return nil, d.syntaxError("no control characters in a string")
			}
			plain = plain && c < 0x80
		}
		d.pos = start + end + 1
		if !plain {
			return nil, nil
		}
		return text, nil
	}
	for d.pos < len(d.buf) { // escapes: the closing quote is the first one not escaped
		switch c := d.buf[d.pos]; {
		case c == '"':
			d.pos++
			return nil, nil
		case c == '\\':
			if err := d.escape(); err != nil {
				return nil, err
			}
		case c < 0x20:
			return nil, d.syntaxError("no control characters in a string")
		default:
			d.pos++
		}
	}
	return nil, io.ErrUnexpectedEOF
}

// escape reads past one escape sequence: a backslash and one of "\/bfnrt, or u and four hex digits.
func (d *jsonReader) escape() error {
	if d.pos+1 >= len(d.buf) {
		return io.ErrUnexpectedEOF
	}
	if c := d.buf[d.pos+1]; c != 'u' {
		if !strings.ContainsRune(`"\/bfnrt`, rune(c)) {
			return d.syntaxError("a valid escape")
		}
		d.pos += 2
		return nil
	}
	if d.pos+6 > len(d.buf) {
		return io.ErrUnexpectedEOF
	}
	for _, h := range d.buf[d.pos+2 : d.pos+6] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h)) {
			return d.syntaxError("four hex digits after \\u")
		}
	}
	d.pos += 6
	return nil
}

// skip reads past one value of any kind.
func (d *jsonReader) skip() error {
	c, err := d.next()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err = d.stringBytes()
	case c == '{':
		err = d.object(func([]byte) error { return d.skip() })
	case c == '[':
		err = d.sequence('[', ']', d.skip)
	case d.literal("true"), d.literal("false"), d.literal("null"):
	case c == '-' || c >= '0' && c <= '9':
		start := d.pos
		for d.pos < len(d.buf) && bytes.IndexByte([]byte("+-.0123456789eE"), d.buf[d.pos]) >= 0 {
			d.pos++
		}
		if d.pos == len(d.buf) {
			return io.ErrUnexpectedEOF
		}
		if !jsonNumber.Match(d.buf[start:d.pos]) {
			d.pos = start
			err = d.syntaxError("a number")
		}
	default:
		err = d.syntaxError("a value")
	}
	return err
}

// parseTime reads create_time: CBC's own layout fast, any ISO-8601 (RFC 3339) time otherwise.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseCBCTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("create_time %q is not an ISO-8601 time", s)
	}
	return t.UTC(), nil
}

// parseCBCTime reads exactly "2006-01-02T15:04:05.000Z".
func parseCBCTime(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range []byte(s[from:to]) {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, second, milli := num(11, 13), num(14, 16), num(17, 19), num(20, 23)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, milli*int(time.Millisecond), time.UTC)
	if t.Day() != day { // e.g. February 30th: let time.Parse refuse it
		return time.Time{}, false
	}
	return t, true
}

// Package cbc is the client of the Carbon Black Cloud Audit Log API: search, the per-key queue, and export jobs.
package cbc

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unsafe"
)

// TimeLayout is how CBC writes create_time: UTC with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t the way CBC does.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// Record is one audit log. Every field is optional on the wire; absent strings are empty.
type Record struct {
	Actor       string    `json:"actor"`
	ActorIP     string    `json:"actor_ip"`
	CreateTime  time.Time `json:"create_time"`
	Description string    `json:"description"`
	Flagged     bool      `json:"flagged"`
	Verbose     bool      `json:"verbose"`
	OrgKey      string    `json:"org_key"`
	RequestURL  string    `json:"request_url"`
}

// Text is the record's value of a field as text: what a sort orders by, a count groups by and the editor
// suggests. Booleans read "false" and "true", which order as CBC sorts them; an unknown field reads "".
func (r Record) Text(field string) string {
	switch field {
	case "actor":
		return r.Actor
	case "actor_ip":
		return r.ActorIP
	case "description":
		return r.Description
	case "request_url":
		return r.RequestURL
	case "flagged":
		return strconv.FormatBool(r.Flagged)
	case "verbose":
		return strconv.FormatBool(r.Verbose)
	case "create_time":
		return FormatTime(r.CreateTime)
	}
	return ""
}

// Bytes is about what a record held in memory costs: the struct and its text.
func (r Record) Bytes() int {
	return int(unsafe.Sizeof(r)) + len(r.Actor) + len(r.ActorIP) + len(r.OrgKey) + len(r.Description) + len(r.RequestURL)
}

// ID is a stable identifier derived from every field, since CBC records carry none. Two identical records
// share an ID; callers that must keep both add an occurrence counter.
func (r Record) ID() string {
	return string(r.AppendID(nil))
}

// appendTime appends t as FormatTime writes it, without parsing the layout each time.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	digits := func(b []byte, n, width int) []byte {
		for div := []int{1, 10, 100, 1000}[width-1]; div > 0; div /= 10 {
			b = append(b, byte('0'+n/div%10))
		}
		return b
	}
	b = append(digits(b, year, 4), '-')
	b = append(digits(b, int(month), 2), '-')
	b = append(digits(b, day, 2), 'T')
	b = append(digits(b, hour, 2), ':')
	b = append(digits(b, minute, 2), ':')
	b = append(digits(b, second, 2), '.')
	return append(digits(b, t.Nanosecond()/1e6, 3), 'Z')
}

// IDLength is the length of an ID.
const IDLength = 24

// AppendID appends the record's ID to b.
func (r Record) AppendID(b []byte) []byte {
	var scratch [256]byte
	in := appendTime(scratch[:0], r.CreateTime)
	for _, s := range []string{r.Actor, r.ActorIP, r.Description, r.OrgKey, r.RequestURL} {
		in = append(append(in, 0), s...)
	}
	in = append(strconv.AppendBool(append(in, 0), r.Flagged), 0)
	in = append(strconv.AppendBool(in, r.Verbose), 0)
	sum := sha256.Sum256(in)
	return hex.AppendEncode(b, sum[:IDLength/2])
}

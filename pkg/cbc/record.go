// Package cbc is the client of the Carbon Black Cloud Audit Log API: search, the per-key queue, and export jobs.
package cbc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
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

type wireRecord struct {
	Actor       string  `json:"actor,omitempty"`
	ActorIP     string  `json:"actor_ip,omitempty"`
	CreateTime  string  `json:"create_time,omitempty"`
	Description string  `json:"description,omitempty"`
	Flagged     bool    `json:"flagged"`
	Verbose     bool    `json:"verbose"`
	OrgKey      string  `json:"org_key,omitempty"`
	RequestURL  *string `json:"request_url"`
}

// MarshalJSON writes a record as CBC does: millisecond timestamps and a null request_url when there is none.
func (r Record) MarshalJSON() ([]byte, error) {
	w := wireRecord{
		Actor:       r.Actor,
		ActorIP:     r.ActorIP,
		Description: r.Description,
		Flagged:     r.Flagged,
		Verbose:     r.Verbose,
		OrgKey:      r.OrgKey,
	}
	if !r.CreateTime.IsZero() {
		w.CreateTime = FormatTime(r.CreateTime)
	}
	if r.RequestURL != "" {
		w.RequestURL = &r.RequestURL
	}
	return json.Marshal(w)
}

// UnmarshalJSON accepts null or absent fields and timestamps with or without fractions of a second.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Record{
		Actor:       w.Actor,
		ActorIP:     w.ActorIP,
		Description: w.Description,
		Flagged:     w.Flagged,
		Verbose:     w.Verbose,
		OrgKey:      w.OrgKey,
	}
	if w.RequestURL != nil {
		r.RequestURL = *w.RequestURL
	}
	if w.CreateTime != "" {
		t, err := time.Parse(time.RFC3339Nano, w.CreateTime)
		if err != nil {
			return fmt.Errorf("create_time %q is not an ISO-8601 time", w.CreateTime)
		}
		r.CreateTime = t.UTC()
	}
	return nil
}

// ID is a stable identifier derived from every field, since CBC records carry none. Two identical records
// share an ID; callers that must keep both add an occurrence counter.
func (r Record) ID() string {
	h := sha256.New()
	for _, s := range []string{
		FormatTime(r.CreateTime), r.Actor, r.ActorIP, r.Description, r.OrgKey, r.RequestURL,
		strconv.FormatBool(r.Flagged), strconv.FormatBool(r.Verbose),
	} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

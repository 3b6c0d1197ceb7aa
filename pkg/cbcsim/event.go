package cbcsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is one audit log as the simulator stores it. Written from cbc-api.md, not from the client: the
// simulator shares no code with what it checks.
type Event struct {
	Actor       string
	ActorIP     string
	CreateTime  time.Time
	Description string
	Flagged     bool
	Verbose     bool
	OrgKey      string
	RequestURL  string
	// Sparse events are written the way forwarded records and CBC's own queue example are: without false
	// booleans and without an empty request_url.
	Sparse bool
}

// entry is an event in the store, with its description analysed once.
type entry struct {
	Event
	words []string
	// keywords are actor, actor_ip, request_url and org_key lower-cased, as their normalizer indexes them.
	keywords [4]string
	// indexed is when search first finds a late event; zero for the others, which search finds at once.
	indexed time.Time
}

// timeLayout is how CBC writes create_time; whole-second times are written without a fraction, as CBC's
// forwarded records show.
const (
	timeLayout        = "2006-01-02T15:04:05.000Z"
	wholeSecondLayout = "2006-01-02T15:04:05Z"
)

func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format(wholeSecondLayout)
	}
	return t.Format(timeLayout)
}

// parseTime reads an ISO-8601 time with or without a fraction (the SDK sends six digits) and a zone.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO-8601 time such as 2024-04-17T19:18:37.480Z", s)
	}
	return t.UTC(), nil
}

// MarshalJSON writes the event as CBC does: request_url null when empty, booleans left out of sparse events.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, value any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		v, _ := json.Marshal(value)
		fmt.Fprintf(&b, "%q:%s", name, v)
	}
	field("actor", e.Actor)
	field("actor_ip", e.ActorIP)
	field("create_time", formatTime(e.CreateTime))
	field("description", e.Description)
	if !e.Sparse || e.Flagged {
		field("flagged", e.Flagged)
	}
	if !e.Sparse || e.Verbose {
		field("verbose", e.Verbose)
	}
	field("org_key", e.OrgKey)
	switch {
	case e.RequestURL != "":
		field("request_url", e.RequestURL)
	case !e.Sparse:
		field("request_url", nil)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an event a test injects; a record without flagged or verbose is stored as sparse.
func (e *Event) UnmarshalJSON(raw []byte) error {
	var w struct {
		Actor       string  `json:"actor"`
		ActorIP     string  `json:"actor_ip"`
		CreateTime  string  `json:"create_time"`
		Description string  `json:"description"`
		Flagged     *bool   `json:"flagged"`
		Verbose     *bool   `json:"verbose"`
		OrgKey      string  `json:"org_key"`
		RequestURL  *string `json:"request_url"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return err
	}
	t, err := parseTime(w.CreateTime)
	if err != nil {
		return err
	}
	*e = Event{Actor: w.Actor, ActorIP: w.ActorIP, CreateTime: t, Description: w.Description, OrgKey: w.OrgKey,
		Sparse: w.Flagged == nil || w.Verbose == nil}
	if w.Flagged != nil {
		e.Flagged = *w.Flagged
	}
	if w.Verbose != nil {
		e.Verbose = *w.Verbose
	}
	if w.RequestURL != nil {
		e.RequestURL = *w.RequestURL
	}
	return nil
}

// stored prepares an event for the store: org key filled in, time at CBC's millisecond, description analysed.
func stored(e Event, orgKey string) entry {
	if e.OrgKey == "" {
		e.OrgKey = orgKey
	}
	e.CreateTime = e.CreateTime.UTC().Truncate(time.Millisecond)
	keywords := [4]string{strings.ToLower(e.Actor), strings.ToLower(e.ActorIP), strings.ToLower(e.RequestURL), strings.ToLower(e.OrgKey)}
	return entry{Event: e, words: analyse(e.Description), keywords: keywords}
}

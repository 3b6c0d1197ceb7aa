package cbc

import "encoding/json"

// Tests write records as CBC does, to serve them from test servers; the client itself never writes one, and
// the simulator has its own writer.

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

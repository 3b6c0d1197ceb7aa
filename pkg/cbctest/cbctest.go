// Package cbctest connects the client's tests to the simulator, which shares no code with the client: it
// copies the simulator's events into client records field by field, and asks the simulator for ground truth
// with search bodies encoded the way the client sends them.
package cbctest

import (
	"encoding/json"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/cbcsim"
)

// Record is a simulator event as the client reads it: absent booleans are false, an absent URL empty.
func Record(e cbcsim.Event) cbc.Record {
	return cbc.Record{
		Actor:       e.Actor,
		ActorIP:     e.ActorIP,
		CreateTime:  e.CreateTime,
		Description: e.Description,
		Flagged:     e.Flagged,
		Verbose:     e.Verbose,
		OrgKey:      e.OrgKey,
		RequestURL:  e.RequestURL,
	}
}

func records(events []cbcsim.Event) []cbc.Record {
	out := make([]cbc.Record, len(events))
	for i, e := range events {
		out[i] = Record(e)
	}
	return out
}

// Records is every event the simulator holds, oldest first, as client records.
func Records(sim *cbcsim.Simulator) []cbc.Record {
	return records(sim.Records())
}

// Dequeued is every event the key's queue reads removed, whether or not the reader got the answer.
func Dequeued(sim *cbcsim.Simulator, keyID string) []cbc.Record {
	return records(sim.Dequeued(keyID))
}

// Inject adds records to the simulator as if they had just happened.
func Inject(sim *cbcsim.Simulator, recs ...cbc.Record) {
	events := make([]cbcsim.Event, len(recs))
	for i, r := range recs {
		events[i] = cbcsim.Event{Actor: r.Actor, ActorIP: r.ActorIP, CreateTime: r.CreateTime, Description: r.Description,
			Flagged: r.Flagged, Verbose: r.Verbose, OrgKey: r.OrgKey, RequestURL: r.RequestURL}
	}
	sim.Inject(events...)
}

// Match is every record a search matches, in its order and without the window: the ground truth.
func Match(sim *cbcsim.Simulator, req cbc.SearchRequest) ([]cbc.Record, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	events, err := sim.Match(body)
	return records(events), err
}

// ReadExport reads an export file back into records.
func ReadExport(format string, raw []byte) ([]cbc.Record, error) {
	events, err := cbcsim.ReadExport(format, raw)
	return records(events), err
}

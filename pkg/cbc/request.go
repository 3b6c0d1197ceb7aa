package cbc

import "time"

// MaxRows is the largest page CBC serves, and Window the number of matches it pages through.
const (
	MaxRows = 10000
	Window  = 10000
)

// Sort orders.
const (
	Asc  = "ASC"
	Desc = "DESC"
)

// SearchRequest is the body of a search. Every key is optional; {} is a valid search.
type SearchRequest struct {
	Query      string      `json:"query,omitempty"`
	Criteria   *Criteria   `json:"criteria,omitempty"`
	Exclusions *Criteria   `json:"exclusions,omitempty"`
	Rows       int         `json:"rows,omitempty"`
	Start      int         `json:"start,omitempty"`
	Sort       []SortField `json:"sort,omitempty"`
}

// Criteria filter a search: AND across keys, OR within a key's list. As exclusions, a match on any key removes
// the record.
type Criteria struct {
	Actor       []string   `json:"actor,omitempty"`
	ActorIP     []string   `json:"actor_ip,omitempty"`
	Description []string   `json:"description,omitempty"`
	RequestURL  []string   `json:"request_url,omitempty"`
	Flagged     *bool      `json:"flagged,omitempty"`
	Verbose     *bool      `json:"verbose,omitempty"`
	CreateTime  *TimeRange `json:"create_time,omitempty"`
}

// IsEmpty reports whether c filters nothing, so it can be left out of a request.
func (c *Criteria) IsEmpty() bool {
	return c == nil || (len(c.Actor) == 0 && len(c.ActorIP) == 0 && len(c.Description) == 0 &&
		len(c.RequestURL) == 0 && c.Flagged == nil && c.Verbose == nil && c.CreateTime == nil)
}

// TimeRange is either an absolute Start/End (both inclusive) or a relative Range such as "-3d".
type TimeRange struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Range string `json:"range,omitempty"`
}

// Between is the absolute range [from, to], both ends inclusive.
func Between(from, to time.Time) *TimeRange {
	return &TimeRange{Start: FormatTime(from), End: FormatTime(to)}
}

// SortField is one sort key; CBC takes one.
type SortField struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// SearchResponse is one page of a search, or one read of the queue.
type SearchResponse struct {
	NumFound     int      `json:"num_found"`
	NumAvailable int      `json:"num_available"`
	Results      []Record `json:"results"`
}

// ExportRequest is a search body without paging, plus the file format ("csv" or "json").
type ExportRequest struct {
	Query      string      `json:"query,omitempty"`
	Criteria   *Criteria   `json:"criteria,omitempty"`
	Exclusions *Criteria   `json:"exclusions,omitempty"`
	Sort       []SortField `json:"sort,omitempty"`
	Format     string      `json:"format"`
}

// WithTime returns a copy of req whose criteria.create_time is [from, to].
func (req SearchRequest) WithTime(from, to time.Time) SearchRequest {
	criteria := Criteria{}
	if req.Criteria != nil {
		criteria = *req.Criteria
	}
	criteria.CreateTime = Between(from, to)
	req.Criteria = &criteria
	return req
}

// timeBounds reads an absolute create_time criterion.
func (req SearchRequest) timeBounds() (from, to time.Time, ok bool) {
	if req.Criteria == nil || req.Criteria.CreateTime == nil {
		return time.Time{}, time.Time{}, false
	}
	from, errFrom := time.Parse(time.RFC3339Nano, req.Criteria.CreateTime.Start)
	to, errTo := time.Parse(time.RFC3339Nano, req.Criteria.CreateTime.End)
	if errFrom != nil || errTo != nil {
		return time.Time{}, time.Time{}, false
	}
	return from.UTC(), to.UTC(), true
}

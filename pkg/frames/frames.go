// Package frames shapes audit records into Grafana data frames: data plane log lines, typed tables and count
// time series.
package frames

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/seed/cbcauditlogs/pkg/category"
	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/geoip"
)

// Severity of a log line: flagged events are security-relevant.
func Severity(r cbc.Record) string {
	if r.Flagged {
		return "warning"
	}
	return "info"
}

// IDs returns a stable id for each record: its derived id, with "-2", "-3"… for exact duplicates, so that
// Grafana keeps both lines.
func IDs(records []cbc.Record) []string {
	hashed := make([][cbc.IDLength]byte, len(records))
	inParts(len(records), func(from, to int) {
		for i := from; i < to; i++ {
			records[i].AppendID(hashed[i][:0])
		}
	})
	return uniqueIDs(hashed)
}

// uniqueIDs turns derived ids into unique strings, cut from one string rather than allocated one by one.
func uniqueIDs(hashed [][cbc.IDLength]byte) []string {
	text := make([]byte, 0, len(hashed)*cbc.IDLength)
	ends := make([]int, len(hashed))
	// Keyed by the id's first 16 hex digits: should two different records share them, the second gets a
	// suffix it did not need, and every id stays unique all the same.
	seen := make(map[uint64]int32, len(hashed))
	for i, id := range hashed {
		text = append(text, id[:]...)
		var prefix [8]byte
		_, _ = hex.Decode(prefix[:], id[:16])
		key := binary.BigEndian.Uint64(prefix[:])
		n := seen[key] + 1
		seen[key] = n
		if n > 1 {
			text = strconv.AppendInt(append(text, '-'), int64(n), 10)
		}
		ends[i] = len(text)
	}
	all := string(text)
	ids := make([]string, len(hashed))
	start := 0
	for i, end := range ends {
		ids[i], start = all[start:end], end
	}
	return ids
}

// Logs is the data plane log-lines frame: timestamp, body, severity, id, labels; with a Placer, the labels
// say where actor_ip is. Large frames are built by one goroutine a CPU.
func Logs(name string, records []cbc.Record, places geoip.Placer) *data.Frame {
	return logsFrame(name, records, IDs(records), places)
}

// LinesPerFrame is the most lines LogsFrames puts in one frame.
const LinesPerFrame = 50_000

// LogsFrames is Logs in frames of at most LinesPerFrame lines, in the records' order, as Loki answers with a
// frame per stream: Grafana shows their lines as one list. Built and encoded one at a time, a large answer
// takes a fraction of the memory on its way to Grafana that it would as one frame.
func LogsFrames(name string, records []cbc.Record, places geoip.Placer) data.Frames {
	ids := IDs(records) // unique over every line, whatever frame it lands in
	out := data.Frames{}
	for from := 0; from == 0 || from < len(records); from += LinesPerFrame {
		to := min(len(records), from+LinesPerFrame)
		out = append(out, logsFrame(name, records[from:to], ids[from:to], places))
	}
	return out
}

// logsFrame is the logs frame of records, whose ids are given.
func logsFrame(name string, records []cbc.Record, ids []string, places geoip.Placer) *data.Frame {
	n := len(records)
	times := make([]time.Time, n)
	bodies := make([]string, n)
	severities := make([]string, n)
	labelValues := make([]json.RawMessage, n)
	inParts(n, func(from, to int) {
		// An audit log repeats a few actors, addresses and kinds of event: records share their labels' bytes,
		// which keeps 200000 lines to a few hundred distinct labels instead of 30 MB of copies.
		shared := map[string]json.RawMessage{}
		var scratch []byte
		categories := category.Memo{}
		memo := geoip.NewMemo(places)
		for i := from; i < to; i++ {
			r := records[i]
			times[i] = r.CreateTime
			bodies[i] = r.Description
			severities[i] = Severity(r)
			scratch = appendLabels(scratch[:0], r, categories.Of(r.Description))
			if places != nil {
				scratch = appendPlace(scratch[:len(scratch)-1], memo.Of(r.ActorIP))
			}
			labels, ok := shared[string(scratch)]
			if !ok {
				labels = json.RawMessage(string(scratch))
				shared[string(labels)] = labels
			}
			labelValues[i] = labels
		}
	})
	frame := data.NewFrame(name,
		data.NewField("timestamp", nil, times),
		data.NewField("body", nil, bodies),
		data.NewField("severity", nil, severities),
		data.NewField("id", nil, ids),
		data.NewField("labels", nil, labelValues),
	)
	frame.SetMeta(&data.FrameMeta{
		Type:                   data.FrameTypeLogLines,
		TypeVersion:            data.FrameTypeVersion{0, 0},
		PreferredVisualization: data.VisTypeLogs,
	})
	return frame
}

// parallelFrom is the number of records from which a frame is built by several goroutines.
const parallelFrom = 4000

// inParts calls work over [0, n), split into one part a CPU run concurrently once n reaches parallelFrom.
func inParts(n int, work func(from, to int)) {
	parts := runtime.GOMAXPROCS(0)
	if n < parallelFrom || parts < 2 {
		work(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(n*p/parts, n*(p+1)/parts)
		}()
	}
	wg.Wait()
}

// appendLabels appends a log line's labels: the record fields besides its time and body, plus its category, as
// {"actor", "actor_ip", "org_key", "request_url" (each left out when empty), "flagged", "verbose",
// "category"}. Written by hand: reflection took longer than the rest of the frame.
func appendLabels(b []byte, r cbc.Record, category string) []byte {
	b = append(b, '{')
	for _, field := range [...]struct{ key, value string }{{"actor", r.Actor}, {"actor_ip", r.ActorIP}, {"org_key", r.OrgKey}, {"request_url", r.RequestURL}} {
		if field.value != "" {
			b = appendJSONString(append(append(append(b, '"'), field.key...), '"', ':'), field.value)
			b = append(b, ',')
		}
	}
	b = strconv.AppendBool(append(b, `"flagged":`...), r.Flagged)
	b = strconv.AppendBool(append(b, `,"verbose":`...), r.Verbose)
	b = appendJSONString(append(b, `,"category":`...), category)
	return append(b, '}')
}

// appendPlace closes a log line's labels with where its address is: country, country_name, city, latitude,
// longitude, asn and as_org, each left out when unknown.
func appendPlace(b []byte, p geoip.Place) []byte {
	for _, field := range [...]struct{ key, value string }{{"country", p.Country}, {"country_name", p.CountryName}, {"city", p.City}, {"as_org", p.ASOrg}} {
		if field.value != "" {
			b = appendJSONString(append(append(append(b, ',', '"'), field.key...), '"', ':'), field.value)
		}
	}
	if p.Located {
		b = append(strconv.AppendFloat(append(b, `,"latitude":"`...), p.Latitude, 'f', -1, 64), '"')
		b = append(strconv.AppendFloat(append(b, `,"longitude":"`...), p.Longitude, 'f', -1, 64), '"')
	}
	if p.ASN != 0 {
		b = append(strconv.AppendUint(append(b, `,"asn":"`...), uint64(p.ASN), 10), '"')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string, exactly as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // escapes, HTML-safe characters and UTF-8 checks
			return append(b, quoted...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// Table has one typed column per record field, plus the category; with a Placer, where actor_ip is.
func Table(name string, records []cbc.Record, places geoip.Placer) *data.Frame {
	n := len(records)
	var (
		times                                             = make([]time.Time, n)
		actors, ips, descriptions, categories, orgs, urls = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		flagged, verbose                                  = make([]bool, n), make([]bool, n)
	)
	memo := category.Memo{}
	for i, r := range records {
		times[i], actors[i], ips[i], descriptions[i] = r.CreateTime, r.Actor, r.ActorIP, r.Description
		categories[i], orgs[i], urls[i] = memo.Of(r.Description), r.OrgKey, r.RequestURL
		flagged[i], verbose[i] = r.Flagged, r.Verbose
	}
	frame := data.NewFrame(name,
		data.NewField("create_time", nil, times),
		data.NewField("actor", nil, actors),
		data.NewField("actor_ip", nil, ips),
		data.NewField("description", nil, descriptions),
		data.NewField("category", nil, categories),
		data.NewField("flagged", nil, flagged),
		data.NewField("verbose", nil, verbose),
		data.NewField("org_key", nil, orgs),
		data.NewField("request_url", nil, urls),
	)
	if places != nil {
		frame.Fields = append(frame.Fields, placeFields(records, places)...)
	}
	frame.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeTable})
	return frame
}

// placeFields are the columns of where each record's actor_ip is: country (ISO code, or "private"),
// country_name, city, latitude, longitude, asn and as_org; coordinates and the AS number are empty when unknown.
func placeFields(records []cbc.Record, places geoip.Placer) []*data.Field {
	n := len(records)
	countries, names, cities, orgs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lats, lons, asns := make([]*float64, n), make([]*float64, n), make([]*int64, n)
	// Each address is placed once, and its coordinates and AS number held once, however many records share it.
	type placed struct {
		geoip.Place
		lat, lon *float64
		asn      *int64
	}
	seen := map[string]*placed{}
	for i, r := range records {
		p, ok := seen[r.ActorIP]
		if !ok {
			p = &placed{Place: places.Place(r.ActorIP)}
			if p.Located {
				p.lat, p.lon = &p.Latitude, &p.Longitude
			}
			if p.ASN != 0 {
				asn := int64(p.ASN)
				p.asn = &asn
			}
			seen[r.ActorIP] = p
		}
		countries[i], names[i], cities[i], orgs[i] = p.Country, p.CountryName, p.City, p.ASOrg
		lats[i], lons[i], asns[i] = p.lat, p.lon, p.asn
	}
	return []*data.Field{
		data.NewField("country", nil, countries),
		data.NewField("country_name", nil, names),
		data.NewField("city", nil, cities),
		data.NewField("latitude", nil, lats),
		data.NewField("longitude", nil, lons),
		data.NewField("asn", nil, asns),
		data.NewField("as_org", nil, orgs),
	}
}

// Warning is a notice Grafana shows as a warning on the panel.
func Warning(text string) data.Notice {
	return data.Notice{Severity: data.NoticeSeverityWarning, Text: text}
}

// Info is a notice Grafana shows as information on the panel.
func Info(text string) data.Notice { return data.Notice{Severity: data.NoticeSeverityInfo, Text: text} }

package plugin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/live"

	"github.com/seed/cbcauditlogs/pkg/cbc"
	"github.com/seed/cbcauditlogs/pkg/frames"
	"github.com/seed/cbcauditlogs/pkg/geoip"
	"github.com/seed/cbcauditlogs/pkg/models"
	"github.com/seed/cbcauditlogs/pkg/queue"
	"github.com/seed/cbcauditlogs/pkg/replicas"
)

var _ backend.StreamHandler = (*Datasource)(nil)

// queueStreamPath is the Grafana Live path of the queue's new events for a panel: in a format ("logs" or
// "table"), numbered after mark (what the panel's queue query gave it), from the start of its time range.
// Panels that were given the same share one stream.
func queueStreamPath(format string, mark uint64, from time.Time) string {
	return fmt.Sprintf("queue/%s/%d/%d", format, mark, from.UnixMilli())
}

// streamOf reads a queue stream path. The bare "queue/<format>" of earlier versions means the events from now on.
func streamOf(path string) (format string, mark uint64, from time.Time, ok bool) {
	parts := strings.Split(path, "/")
	if len(parts) < 2 || parts[0] != "queue" || (parts[1] != models.FormatLogs && parts[1] != models.FormatTable) {
		return "", 0, time.Time{}, false
	}
	if len(parts) == 2 {
		return parts[1], 0, time.Time{}, true
	}
	mark, err1 := strconv.ParseUint(parts[2], 10, 64)
	ms, err2 := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if len(parts) != 4 || err1 != nil || err2 != nil {
		return "", 0, time.Time{}, false
	}
	return parts[1], mark, time.UnixMilli(ms).UTC(), true
}

// queueFrame shapes queue records like the queue query, so streamed frames append to the panel's frame.
func queueFrame(format string, records []cbc.Record, places geoip.Placer) *data.Frame {
	if format == models.FormatTable {
		return frames.Table("queue", records, places)
	}
	return frames.Logs("queue", records, places)
}

// queueQuery answers the queue query type from the buffer, never from CBC, and points the panel at the live
// channel that carries the events that arrive next.
func (d *Datasource) queueQuery(q models.Query) data.Frames {
	var notices []data.Notice
	if q.Query != "" || !filtersEmpty(q.Criteria) || !filtersEmpty(q.Exclusions) || q.Sort != nil {
		// The editor keeps them for when the user switches back to a search.
		notices = append(notices, frames.Info("The live queue shows every new event: the query text, filters and sort are kept for a search, and ignored here."))
	}
	d.feed.Start()
	records, mark := d.buffer.Snapshot(q.TimeRange.From, q.TimeRange.To)
	if len(records) > q.Limit {
		notices = append(notices, frames.Info(fmt.Sprintf("Showing the newest %d of %d queued events.", q.Limit, len(records))))
		records = records[len(records)-q.Limit:]
	}
	st := d.feed.Status()
	if st.Stopped != "" {
		notices = append(notices, frames.Warning("The queue drain has stopped: "+st.Stopped))
	}
	if notice := st.IncompleteNotice(); notice != "" {
		notices = append(notices, frames.Warning(notice))
	}
	if d.replicas != nil {
		if notice := d.replicas.Notice(); notice != "" {
			notices = append(notices, frames.Warning(notice))
		}
	}
	frame := queueFrame(q.Format, records, d.search.Placer())
	frame.Meta.Notices = notices
	frame.Meta.Channel = live.Channel{Scope: live.ScopeDatasource, Namespace: d.uid, Path: queueStreamPath(q.Format, mark, q.TimeRange.From)}.String()
	return data.Frames{frame}
}

func filtersEmpty(f models.Filters) bool {
	return len(f.Actor) == 0 && len(f.ActorIP) == 0 && len(f.Description) == 0 && len(f.RequestURL) == 0 && f.Flagged == nil && f.Verbose == nil &&
		len(f.Country) == 0 && len(f.ASN) == 0
}

// SubscribeStream lets panels subscribe to the queue's live channels.
func (d *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if _, _, _, ok := streamOf(req.Path); !ok || d.feed == nil {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	d.feed.Start()
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// Stream packets are bounded, so that a burst reaches a panel in pieces it can take.
const (
	maxPacketRows  = 500
	maxPacketBytes = 512 << 10
)

// RunStream sends the events the panel was not given yet and that fall in its time range, in bounded packets,
// until Grafana closes the stream. A panel that falls behind loses its oldest packets, and the next packet says
// how many events.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	format, mark, from, ok := streamOf(req.Path)
	if !ok || d.feed == nil {
		return fmt.Errorf("no stream at %q", req.Path)
	}
	d.feed.Start()
	var sub *queue.Subscription
	if from.IsZero() {
		sub = d.buffer.Live() // the path of an earlier version: the events from now on
	} else {
		sub = d.buffer.Subscribe(from, mark)
	}
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch, open := <-sub.C:
			if !open {
				return nil
			}
			for _, packet := range packets(batch) {
				frame := queueFrame(format, packet, d.search.Placer())
				if dropped := sub.Dropped(); dropped > 0 {
					frame.Meta.Notices = append(frame.Meta.Notices, frames.Warning(fmt.Sprintf(
						"%d events were not sent to this panel because it fell behind; refresh it to see them.", dropped)))
				}
				if err := sender.SendFrame(frame, data.IncludeAll); err != nil {
					return err
				}
			}
		}
	}
}

// packets splits a batch into pieces of at most maxPacketRows events and about maxPacketBytes.
func packets(batch []cbc.Record) [][]cbc.Record {
	var out [][]cbc.Record
	start, size := 0, 0
	for i, r := range batch {
		size += frames.RecordBytes(r)
		if i > start && (i-start >= maxPacketRows || size > maxPacketBytes) {
			out = append(out, batch[start:i])
			start, size = i, frames.RecordBytes(r)
		}
	}
	if start < len(batch) {
		out = append(out, batch[start:])
	}
	return out
}

// PublishStream refuses: panels only listen.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

func (d *Datasource) handleQueueStatus(w http.ResponseWriter, _ *http.Request) {
	if d.replicas == nil {
		writeJSON(w, http.StatusOK, d.queueStatus())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		queue.Status
		Replicas replicas.Report `json:"replicas"`
	}{d.queueStatus(), d.replicas.Report()})
}

package cbc

import (
	"context"
	"net/http"
	"time"
)

// Queue reads this API key's queue of new audit logs, oldest first. CBC removes what it returns: only one
// reader per API key should ever call it.
func (c *Client) Queue(ctx context.Context) (SearchResponse, error) {
	return c.envelope(ctx, endpointQueue, http.MethodGet, c.orgPath("audit_log/v1", "logs/_queue"), nil, 0)
}

// legacyNotification is a record of the deprecated v3 queue.
type legacyNotification struct {
	EventID     string  `json:"eventId"`
	EventTime   int64   `json:"eventTime"` // epoch milliseconds
	LoginName   string  `json:"loginName"`
	ClientIP    string  `json:"clientIp"`
	OrgName     string  `json:"orgName"`
	RequestURL  *string `json:"requestUrl"`
	Description string  `json:"description"`
	Flagged     bool    `json:"flagged"`
	Verbose     bool    `json:"verbose"`
}

type legacyResponse struct {
	Success       bool                 `json:"success"`
	Message       string               `json:"message"`
	Notifications []legacyNotification `json:"notifications"`
}

// LegacyQueue reads the deprecated v3 queue (/integrationServices/v3/auditlogs), for tenants without the v1
// API, mapped to the v1 record. It shares the v1 queue's semantics: reading clears.
func (c *Client) LegacyQueue(ctx context.Context) ([]Record, error) {
	body, err := fetchJSON[legacyResponse](ctx, c, endpointLegacy, http.MethodGet, "/integrationServices/v3/auditlogs", nil)
	if err != nil {
		return nil, err
	}
	if !body.Success {
		return nil, &Error{Kind: KindServer, Message: "the legacy audit log queue answered without success: " + body.Message}
	}
	records := make([]Record, 0, len(body.Notifications))
	for _, n := range body.Notifications {
		rec := Record{
			Actor:       n.LoginName,
			ActorIP:     n.ClientIP,
			CreateTime:  time.UnixMilli(n.EventTime).UTC(),
			Description: n.Description,
			Flagged:     n.Flagged,
			Verbose:     n.Verbose,
			OrgKey:      c.cfg.OrgKey,
		}
		if n.RequestURL != nil {
			rec.RequestURL = *n.RequestURL // as sent: nothing public says CBC encodes it, and decoding turns + into a space
		}
		records = append(records, rec)
	}
	return records, nil
}

package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// AuditEntry is the part of an audit log entry the tests look at.
type AuditEntry struct {
	Action    string `json:"action"`
	TargetID  string `json:"target_id"`
	UserAgent string `json:"user_agent"`
	RunID     string `json:"run_id"`
}

// AuditEntries returns the organization's audit log entries about one
// object, newest first. The provider has no use for the audit log, so the
// client does not carry it.
func (s *Server) AuditEntries(ctx context.Context, targetType, targetID string) ([]AuditEntry, error) {
	q := url.Values{"target_type": {targetType}, "target_id": {targetID}, "limit": {"200"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/audit-logs?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("audit log: status %d", resp.StatusCode)
	}
	var page struct {
		Data []AuditEntry `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return page.Data, nil
}

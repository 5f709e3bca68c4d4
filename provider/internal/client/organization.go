package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Organization is a tenant: every object belongs to one.
type Organization struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Require2FA bool      `json:"require_2fa"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Organization returns the organization the token belongs to.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var out Organization
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/organization"}, &out); err != nil {
		return nil, fmt.Errorf("get organization: %w", err)
	}
	return &out, nil
}

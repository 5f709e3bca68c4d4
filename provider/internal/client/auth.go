package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// User is a person with an account.
type User struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewToken is an API token as created, with its plaintext shown only once.
type NewToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	UserID    string     `json:"user_id"`
	Abilities []string   `json:"abilities"`
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	Token     string     `json:"token"`
}

// Session is what signing up returns.
type Session struct {
	User         User         `json:"user"`
	Organization Organization `json:"organization"`
	Role         string       `json:"role"`
	Token        NewToken     `json:"token"`
}

// RegisterOptions creates an account and the organization it owns.
type RegisterOptions struct {
	Name             string `json:"name"`
	Email            string `json:"email"`
	Password         string `json:"password"`
	OrganizationName string `json:"organization_name"`
}

// Me is the caller as the server sees the token.
type Me struct {
	User         User         `json:"user"`
	Organization Organization `json:"organization"`
	Role         string       `json:"role"`
	TokenID      string       `json:"token_id"`
	Abilities    []string     `json:"abilities"`
}

// Register signs up a new user owning a new organization and returns its
// first token. It works with a client that has no token.
func (c *Client) Register(ctx context.Context, opts RegisterOptions) (*Session, error) {
	var out Session
	err := c.do(ctx, request{
		method: http.MethodPost, path: "/api/v1/auth/register", body: opts, idempotencyKey: newIdempotencyKey(),
	}, &out)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return &out, nil
}

// Me returns the token's user, organization, role and abilities.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/me"}, &out); err != nil {
		return nil, fmt.Errorf("get me: %w", err)
	}
	return &out, nil
}

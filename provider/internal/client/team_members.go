package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Member roles, from most to least powerful.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// Roles lists every member role.
var Roles = []string{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// Member statuses.
const (
	// MemberPending is an invitation not yet accepted.
	MemberPending = "pending"
	// MemberActive is a member with a user account.
	MemberActive = "active"
)

// Member is a person's membership in the organization, or an invitation.
type Member struct {
	ID string `json:"id"`
	// Email is lower-cased by the server.
	Email               string     `json:"email"`
	Role                string     `json:"role"`
	Status              string     `json:"status"`
	UserID              *string    `json:"user_id"`
	Name                *string    `json:"name"`
	InvitedBy           *string    `json:"invited_by"`
	InvitationExpiresAt *time.Time `json:"invitation_expires_at"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	// InvitationToken is set only in the answer to the create that made a
	// pending invitation.
	InvitationToken string `json:"invitation_token,omitempty"`
}

// MemberList is one page of members.
type MemberList struct {
	Data       []Member   `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// MemberListOptions filters and pages a member list; zero values are omitted.
type MemberListOptions struct {
	Email  string
	Role   string
	Status string
	Limit  int
	Offset int
}

func (o MemberListOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("email", o.Email)
	set("role", o.Role)
	set("status", o.Status)
	setPage(q, o.Limit, o.Offset)
	return q
}

// MemberCreateOptions invites a person by e-mail. A known e-mail becomes an
// active member at once; an unknown one gets a pending invitation.
type MemberCreateOptions struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func (o MemberCreateOptions) valid() error {
	if o.Email == "" {
		return errors.New("email is required")
	}
	if o.Role == "" {
		return errors.New("role is required")
	}
	return nil
}

// MemberUpdateOptions changes a member; nil fields are left as they are.
type MemberUpdateOptions struct {
	Role *string `json:"role,omitempty"`
}

func (o MemberUpdateOptions) valid() error {
	if o.Role == nil {
		return errors.New("nothing to update")
	}
	return nil
}

// ListTeamMembers returns one page of the organization's members.
func (c *Client) ListTeamMembers(ctx context.Context, opts MemberListOptions) (*MemberList, error) {
	var out MemberList
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/team/members", query: opts.query()}, &out)
	if err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	return &out, nil
}

// FindTeamMemberByEmail returns the member with the e-mail (compared
// case-insensitively by the server), or an error satisfying IsNotFound.
func (c *Client) FindTeamMemberByEmail(ctx context.Context, email string) (*Member, error) {
	list, err := c.ListTeamMembers(ctx, MemberListOptions{Email: email, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list.Data) == 0 {
		return nil, &Error{StatusCode: http.StatusNotFound, Code: "not_found", Message: "no member with e-mail " + email}
	}
	return &list.Data[0], nil
}

// CreateTeamMember invites a person. The request carries an Idempotency-Key
// so that a retry after a lost answer does not invite twice.
func (c *Client) CreateTeamMember(ctx context.Context, opts MemberCreateOptions) (*Member, error) {
	if err := opts.valid(); err != nil {
		return nil, fmt.Errorf("create team member: %w", err)
	}
	var out Member
	err := c.do(ctx, request{
		method: http.MethodPost, path: "/api/v1/team/members", body: opts, idempotencyKey: newIdempotencyKey(),
	}, &out)
	if err != nil {
		return nil, fmt.Errorf("create team member: %w", err)
	}
	return &out, nil
}

// TeamMember returns one member by id.
func (c *Client) TeamMember(ctx context.Context, id string) (*Member, error) {
	if id == "" {
		return nil, errors.New("get team member: id is empty")
	}
	var out Member
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/team/members/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get team member %s: %w", id, err)
	}
	return &out, nil
}

// UpdateTeamMember changes a member's role. Setting a role to a value is
// safe to repeat, so the PATCH is retried like an idempotent method.
func (c *Client) UpdateTeamMember(ctx context.Context, id string, opts MemberUpdateOptions) (*Member, error) {
	if id == "" {
		return nil, errors.New("update team member: id is empty")
	}
	if err := opts.valid(); err != nil {
		return nil, fmt.Errorf("update team member %s: %w", id, err)
	}
	var out Member
	err := c.do(ctx, request{
		method: http.MethodPatch, path: "/api/v1/team/members/" + url.PathEscape(id), body: opts, repeatable: true,
	}, &out)
	if err != nil {
		return nil, fmt.Errorf("update team member %s: %w", id, err)
	}
	return &out, nil
}

// DeleteTeamMember removes a member or withdraws an invitation.
func (c *Client) DeleteTeamMember(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("delete team member: id is empty")
	}
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/api/v1/team/members/" + url.PathEscape(id)}, nil); err != nil {
		return fmt.Errorf("delete team member %s: %w", id, err)
	}
	return nil
}

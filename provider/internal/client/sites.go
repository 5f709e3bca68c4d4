package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/chomhq/chom/internal/hostname"
)

// Site types.
const (
	SiteHTML      = "html"
	SiteWordPress = "wordpress"
	SiteLaravel   = "laravel"
)

// SiteTypes lists every site type.
var SiteTypes = []string{SiteHTML, SiteWordPress, SiteLaravel}

// Site statuses.
const (
	SiteProvisioning = "provisioning"
	SiteActive       = "active"
	SiteSuspended    = "suspended"
	SiteFailed       = "failed"
	SiteDeleting     = "deleting"
)

// SiteStatuses lists every site status.
var SiteStatuses = []string{SiteProvisioning, SiteActive, SiteSuspended, SiteFailed, SiteDeleting}

// Site is a web site served by one of the organization's servers. Its
// environment variables are never returned.
type Site struct {
	ID string `json:"id"`
	// Domain is lower-case, without a trailing dot.
	Domain string `json:"domain"`
	// Aliases are normalised like Domain, without duplicates, sorted.
	Aliases       []string `json:"aliases"`
	Type          string   `json:"type"`
	VPSID         string   `json:"vps_id"`
	PHPVersion    *string  `json:"php_version"`
	GitRepository *string  `json:"git_repository"`
	// GitBranch is nil for the repository's default branch.
	GitBranch    *string            `json:"git_branch"`
	HTTPS        bool               `json:"https"`
	Status       string             `json:"status"`
	DocumentRoot string             `json:"document_root"`
	SystemUser   string             `json:"system_user"`
	DatabaseName *string            `json:"database_name"`
	DatabaseUser *string            `json:"database_user"`
	Certificate  SiteCertificateRef `json:"certificate"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

// SiteCertificateRef summarises a site's TLS certificate.
type SiteCertificateRef struct {
	Status   string     `json:"status"`
	Issuer   *string    `json:"issuer"`
	NotAfter *time.Time `json:"not_after"`
}

// SiteCredentials are a site's database credentials.
type SiteCredentials struct {
	DatabaseName     string `json:"database_name"`
	DatabaseUser     string `json:"database_user"`
	DatabasePassword string `json:"database_password"`
	DatabaseHost     string `json:"database_host"`
}

// siteWithOperation is the answer to the requests that start work on a site.
type siteWithOperation struct {
	Site      Site       `json:"site"`
	Operation *Operation `json:"operation"`
}

// SiteList is one page of sites.
type SiteList struct {
	Data       []Site     `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// SiteListOptions filters and pages a site list; zero values are omitted.
type SiteListOptions struct {
	Status string
	Type   string
	VPSID  string
	// Domain matches the site answering to the host name: by its domain
	// or one of its aliases.
	Domain string
	Limit  int
	Offset int
}

func (o SiteListOptions) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"status": o.Status, "type": o.Type, "vps_id": o.VPSID, "domain": o.Domain} {
		if v != "" {
			q.Set(k, v)
		}
	}
	setPage(q, o.Limit, o.Offset)
	return q
}

// SiteCreateOptions creates a site; nil fields take the server's defaults
// (the VPS with most room, its newest PHP, the repository's default
// branch, no HTTPS).
type SiteCreateOptions struct {
	Domain        string            `json:"domain"`
	Aliases       []string          `json:"aliases,omitempty"`
	Type          string            `json:"type"`
	VPSID         *string           `json:"vps_id,omitempty"`
	PHPVersion    *string           `json:"php_version,omitempty"`
	GitRepository *string           `json:"git_repository,omitempty"`
	GitBranch     *string           `json:"git_branch,omitempty"`
	Environment   map[string]string `json:"environment,omitempty"`
	HTTPS         *bool             `json:"https,omitempty"`
}

func (o SiteCreateOptions) valid() error {
	switch {
	case o.Domain == "":
		return errors.New("domain is required")
	case o.Type == "":
		return errors.New("type is required")
	}
	return nil
}

// SiteUpdateOptions changes a site; nil fields are left as they are.
type SiteUpdateOptions struct {
	// Aliases replaces every alias; an empty slice removes them all.
	Aliases       *[]string `json:"aliases,omitempty"`
	PHPVersion    *string   `json:"php_version,omitempty"`
	GitRepository *string   `json:"git_repository,omitempty"`
	// GitBranch set to "" deploys the repository's default branch.
	GitBranch *string `json:"git_branch,omitempty"`
	// Environment replaces every variable; an empty map removes them all.
	Environment *map[string]string `json:"environment,omitempty"`
	HTTPS       *bool              `json:"https,omitempty"`
}

// Empty reports whether the options change nothing.
func (o SiteUpdateOptions) Empty() bool { return o == (SiteUpdateOptions{}) }

// ListSites returns one page of the organization's sites, oldest first.
func (c *Client) ListSites(ctx context.Context, opts SiteListOptions) (*SiteList, error) {
	var out SiteList
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/sites", query: opts.query()}, &out); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return &out, nil
}

// AllSites returns every site matching opts (whose Limit and Offset are
// ignored), paging through the list.
func (c *Client) AllSites(ctx context.Context, opts SiteListOptions) ([]Site, error) {
	var all []Site
	opts.Limit, opts.Offset = maxPageSize, 0
	for {
		page, err := c.ListSites(ctx, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		opts.Offset += len(page.Data)
		if len(page.Data) == 0 || int64(opts.Offset) >= page.Pagination.Total {
			return all, nil
		}
	}
}

// NormalizeHostname returns a host name the way the server stores it:
// lower-case, without surrounding space or the root's trailing dot.
func NormalizeHostname(name string) string { return hostname.Normalize(name) }

// FindSiteByDomain returns the site whose domain is name (compared
// normalised), or an error satisfying IsNotFound. A name that is only
// another site's alias is not found either; the error says whose it is.
func (c *Client) FindSiteByDomain(ctx context.Context, name string) (*Site, error) {
	domain := NormalizeHostname(name)
	list, err := c.ListSites(ctx, SiteListOptions{Domain: domain, Limit: maxPageSize})
	if err != nil {
		return nil, err
	}
	for i := range list.Data {
		if list.Data[i].Domain == domain {
			return &list.Data[i], nil
		}
	}
	msg := "no site with domain " + strconv.Quote(domain)
	if len(list.Data) > 0 {
		s := list.Data[0]
		msg += fmt.Sprintf("; it is an alias of site %s (id %s)", s.Domain, s.ID)
	}
	return nil, &Error{StatusCode: http.StatusNotFound, Code: "not_found", Message: msg}
}

// CreateSite creates a site and returns it with the operation that
// provisions it. The request carries an Idempotency-Key so that a retry
// after a lost answer does not create it twice.
func (c *Client) CreateSite(ctx context.Context, opts SiteCreateOptions) (*Site, *Operation, error) {
	if err := opts.valid(); err != nil {
		return nil, nil, fmt.Errorf("create site: %w", err)
	}
	var out siteWithOperation
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/sites", body: opts, idempotencyKey: newIdempotencyKey()}, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("create site: %w", err)
	}
	return &out.Site, out.Operation, nil
}

// Site returns one site by id.
func (c *Client) Site(ctx context.Context, id string) (*Site, error) {
	if id == "" {
		return nil, errors.New("get site: id is empty")
	}
	var out Site
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/sites/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get site %s: %w", id, err)
	}
	return &out, nil
}

// UpdateSite changes a site and returns it with the operation that applies
// the change. It is not retried: a second attempt would find the first
// one's operation in progress.
func (c *Client) UpdateSite(ctx context.Context, id string, opts SiteUpdateOptions) (*Site, *Operation, error) {
	if id == "" {
		return nil, nil, errors.New("update site: id is empty")
	}
	if opts.Empty() {
		return nil, nil, fmt.Errorf("update site %s: nothing to update", id)
	}
	var out siteWithOperation
	if err := c.do(ctx, request{method: http.MethodPatch, path: "/api/v1/sites/" + url.PathEscape(id), body: opts}, &out); err != nil {
		return nil, nil, fmt.Errorf("update site %s: %w", id, err)
	}
	return &out.Site, out.Operation, nil
}

// DeleteSite starts deleting a site, everything of it on its server
// included, and returns the operation doing it.
func (c *Client) DeleteSite(ctx context.Context, id string) (*Operation, error) {
	if id == "" {
		return nil, errors.New("delete site: id is empty")
	}
	var out siteWithOperation
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/api/v1/sites/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("delete site %s: %w", id, err)
	}
	return out.Operation, nil
}

// SiteCredentials reveals a site's database credentials. The server
// records every call in the audit log; html sites have none (code
// "no_database").
func (c *Client) SiteCredentials(ctx context.Context, id string) (*SiteCredentials, error) {
	if id == "" {
		return nil, errors.New("get site credentials: id is empty")
	}
	var out SiteCredentials
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/sites/" + url.PathEscape(id) + "/credentials"}, &out); err != nil {
		return nil, fmt.Errorf("get credentials of site %s: %w", id, err)
	}
	return &out, nil
}

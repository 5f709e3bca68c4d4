package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

// The baseline the API is measured against: the same two reads on the
// same database, answered by net/http and database/sql alone — no router,
// no middleware, no ORM, no authentication (the organization comes in a
// header), no rate limit, no logging. It runs as its own process, like the
// real server, so that both share the machine with the load generator in
// the same way.

const siteColumns = `id, organization_id, vps_id, domain, aliases, type, php_version, git_repository, git_branch,
environment_sealed, https, suspended, status, system_user, database_name, database_user, database_password_sealed,
app_secrets_sealed, certificate_source, certificate_sealed, certificate_issuer, certificate_domains,
certificate_not_before, certificate_not_after, certificate_error, created_at, updated_at`

// bareSite is a sites row as the baseline scans it.
type bareSite struct {
	ID, OrganizationID, VPSID, Domain, Aliases, Type, PHPVersion, GitRepository, GitBranch string
	EnvironmentSealed                                                                      string
	HTTPS, Suspended                                                                       bool
	Status, SystemUser, DatabaseName, DatabaseUser, DatabasePasswordSealed                 string
	AppSecretsSealed, CertificateSource, CertificateSealed, CertificateIssuer              string
	CertificateDomains                                                                     string
	CertificateNotBefore, CertificateNotAfter                                              sql.NullTime
	CertificateError                                                                       string
	CreatedAt, UpdatedAt                                                                   time.Time
}

func (s *bareSite) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&s.ID, &s.OrganizationID, &s.VPSID, &s.Domain, &s.Aliases, &s.Type, &s.PHPVersion, &s.GitRepository,
		&s.GitBranch, &s.EnvironmentSealed, &s.HTTPS, &s.Suspended, &s.Status, &s.SystemUser, &s.DatabaseName,
		&s.DatabaseUser, &s.DatabasePasswordSealed, &s.AppSecretsSealed, &s.CertificateSource, &s.CertificateSealed,
		&s.CertificateIssuer, &s.CertificateDomains, &s.CertificateNotBefore, &s.CertificateNotAfter,
		&s.CertificateError, &s.CreatedAt, &s.UpdatedAt)
}

// bareSiteJSON has the fields of the API's Site schema.
type bareSiteJSON struct {
	ID           string    `json:"id"`
	Domain       string    `json:"domain"`
	Aliases      []string  `json:"aliases"`
	Type         string    `json:"type"`
	VPSID        string    `json:"vps_id"`
	PHPVersion   *string   `json:"php_version"`
	HTTPS        bool      `json:"https"`
	Status       string    `json:"status"`
	DocumentRoot string    `json:"document_root"`
	SystemUser   string    `json:"system_user"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func (s *bareSite) json() (bareSiteJSON, error) {
	out := bareSiteJSON{
		ID: s.ID, Domain: s.Domain, Type: s.Type, VPSID: s.VPSID, HTTPS: s.HTTPS, Status: s.Status,
		DocumentRoot: "/srv/chom/sites/" + s.SystemUser + "/www", SystemUser: s.SystemUser,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.PHPVersion != "" {
		out.PHPVersion = &s.PHPVersion
	}
	return out, json.Unmarshal([]byte(s.Aliases), &out.Aliases)
}

type bareHandler struct {
	db                  *sql.DB
	getQ, countQ, listQ string
}

func newBareHandler(db *sql.DB, dialect store.Dialect) *bareHandler {
	q := func(s string) string {
		if dialect != store.Postgres {
			return s
		}
		for i := 1; strings.Contains(s, "?"); i++ {
			s = strings.Replace(s, "?", fmt.Sprintf("$%d", i), 1)
		}
		return s
	}
	return &bareHandler{
		db:     db,
		getQ:   q("SELECT " + siteColumns + " FROM sites WHERE organization_id = ? AND id = ? LIMIT 1"),
		countQ: q("SELECT count(*) FROM sites WHERE organization_id = ?"),
		listQ:  q("SELECT " + siteColumns + " FROM sites WHERE organization_id = ? ORDER BY created_at, id LIMIT 50"),
	}
}

func (h *bareHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	org := r.Header.Get("X-Organization-Id")
	var body any
	var err error
	switch id, one := strings.CutPrefix(r.URL.Path, "/api/v1/sites/"); {
	case one:
		body, err = h.get(r.Context(), org, id)
	case r.URL.Path == "/api/v1/sites":
		body, err = h.list(r.Context(), org)
	default:
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (h *bareHandler) get(ctx context.Context, org, id string) (any, error) {
	var s bareSite
	if err := s.scan(h.db.QueryRowContext(ctx, h.getQ, org, id)); err != nil {
		return nil, err
	}
	return s.json()
}

func (h *bareHandler) list(ctx context.Context, org string) (any, error) {
	var total int64
	if err := h.db.QueryRowContext(ctx, h.countQ, org).Scan(&total); err != nil {
		return nil, err
	}
	rows, err := h.db.QueryContext(ctx, h.listQ, org)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := struct {
		Data       []bareSiteJSON `json:"data"`
		Pagination struct {
			Total  int64 `json:"total"`
			Limit  int   `json:"limit"`
			Offset int   `json:"offset"`
		} `json:"pagination"`
	}{Data: make([]bareSiteJSON, 0, 50)}
	for rows.Next() {
		var s bareSite
		if err := s.scan(rows); err != nil {
			return nil, err
		}
		j, err := s.json()
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, j)
	}
	out.Pagination.Total, out.Pagination.Limit = total, 50
	return out, rows.Err()
}

// bareServe is the `chom-bench bare-serve` subcommand: it serves the
// baseline until SIGTERM, after printing its address on stdout.
func bareServe(args []string) error {
	fs := flag.NewFlagSet("bare-serve", flag.ContinueOnError)
	dbURL := fs.String("database-url", "", "the database to read, as CHOM_DATABASE_URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// store.Open gives the baseline the server's own driver, connection
	// settings and pool size; only database/sql is used from there on.
	st, err := store.Open(ctx, *dbURL, nil)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newBareHandler(st.SQLDB(), st.Dialect()), ReadHeaderTimeout: 10 * time.Second}
	fmt.Println(ln.Addr().String())
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

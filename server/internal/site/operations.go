package site

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
)

// Handlers returns the operation handlers to register with the job queue.
func (s *Service) Handlers() []jobs.Handler {
	hs := []jobs.Handler{deleteHandler{s}}
	for _, kind := range []string{KindCreate, KindUpdate, KindSuspend, KindResume, KindCertificate} {
		hs = append(hs, applyHandler{s: s, kind: kind})
	}
	return hs
}

// renewParams are the parameters of a certificate operation.
type renewParams struct {
	// Renew obtains a new certificate even when the stored one is valid.
	Renew bool `json:"renew"`
}

// applyHandler makes the server serve the site as its row says. Every kind
// but delete runs it; each step reads the row afresh, so that a step sees
// what the steps before it stored (a new certificate, say).
type applyHandler struct {
	s    *Service
	kind string
}

func (h applyHandler) Kind() string { return h.kind }

func (h applyHandler) Steps(ctx context.Context, op *store.Operation) ([]jobs.Step, error) {
	site, err := h.s.opSite(ctx, op)
	if err != nil {
		return nil, err
	}
	var p renewParams
	if err := jobs.DecodeParams(op, &p); err != nil {
		return nil, jobs.Permanent(err)
	}
	return h.s.applySteps(site, p.Renew), nil
}

// OnSuccess makes the site active, or suspended when that is what it asked
// for.
func (h applyHandler) OnSuccess(ctx context.Context, op *store.Operation) error {
	site, err := h.s.opSite(ctx, op)
	if err != nil {
		return err
	}
	return h.s.setStatus(ctx, site, serving(site))
}

// OnFailure makes the site failed, except after a certificate operation:
// a certificate that could not be renewed or deployed leaves the site
// serving as before (the certificate's error says why), and the periodic
// renewal tries again.
func (h applyHandler) OnFailure(ctx context.Context, op *store.Operation, _ error) error {
	site, err := h.s.opSite(ctx, op)
	if err != nil {
		return ignoreGone(err)
	}
	status := store.SiteFailed
	if h.kind == KindCertificate {
		status = serving(site)
	}
	return h.s.setStatus(ctx, site, status)
}

// serving is the status of a site its server serves as asked.
func serving(site *store.Site) string {
	if site.Suspended {
		return store.SiteSuspended
	}
	return store.SiteActive
}

// applySteps plans the steps that make the server match site. The plan
// depends only on what an operation cannot change while it runs (type,
// https), so every attempt of an operation plans the same steps.
func (s *Service) applySteps(site *store.Site, renew bool) []jobs.Step {
	steps := []jobs.Step{
		s.remote("create the system user", func(st *opState) (provision.Step, error) {
			return provision.SiteUser(st.spec), nil
		}),
		s.remote("create the site's directories", func(st *opState) (provision.Step, error) {
			return provision.SiteDirectories(st.spec), nil
		}),
	}
	if runsPHP(site.Type) {
		steps = append(steps, s.remote("run the PHP-FPM pool", func(st *opState) (provision.Step, error) {
			return provision.SitePool(st.spec), nil
		}))
	}
	if HasDatabase(site.Type) {
		steps = append(steps, s.remote("create the database", func(st *opState) (provision.Step, error) {
			db, err := st.database()
			return provision.SiteDatabase(db), err
		}))
	}
	switch site.Type {
	case provision.SiteHTML:
		steps = append(steps, s.remote("write the placeholder page", func(st *opState) (provision.Step, error) {
			return provision.SitePlaceholder(st.spec), nil
		}))
	case provision.SiteWordPress:
		steps = append(steps,
			s.remote("copy WordPress", func(st *opState) (provision.Step, error) {
				return provision.WordPressFiles(st.spec), nil
			}),
			s.remote("write wp-config.php", func(st *opState) (provision.Step, error) {
				db, err := st.database()
				if err != nil {
					return provision.Step{}, err
				}
				app, err := st.appSecrets()
				return provision.WordPressConfig(st.spec, db, app.WordPressSalts), err
			}),
		)
	case provision.SiteLaravel:
		steps = append(steps,
			s.remote("clone the repository", func(st *opState) (provision.Step, error) {
				return provision.GitCheckout(st.spec, st.site.GitRepository, st.site.GitBranch), nil
			}),
			s.remote("write .env", func(st *opState) (provision.Step, error) {
				db, err := st.database()
				if err != nil {
					return provision.Step{}, err
				}
				vars, err := st.envVars()
				return provision.LaravelEnv(st.spec, vars, db), err
			}),
			s.remote("install the Composer dependencies", func(st *opState) (provision.Step, error) {
				return provision.ComposerInstall(st.spec), nil
			}),
			s.remote("run the database migrations", func(st *opState) (provision.Step, error) {
				return provision.ArtisanMigrate(st.spec), nil
			}),
		)
	}
	if !site.HTTPS {
		return append(steps, s.remote("configure nginx", nginxStep))
	}
	// A server block that names the certificate needs its files first; a
	// certificate to obtain needs the site served over HTTP first.
	return append(steps,
		s.remote("deploy the stored certificate", certificateStep),
		s.remote("configure nginx", nginxStep),
		jobs.Step{Name: "obtain a certificate", Run: func(ctx context.Context, r *jobs.Run) error {
			return s.obtainCertificate(ctx, r, renew)
		}},
		s.remote("deploy the certificate", certificateStep),
		s.remote("serve HTTPS", nginxStep),
	)
}

func nginxStep(st *opState) (provision.Step, error) { return provision.SiteNginx(st.spec), nil }

func certificateStep(st *opState) (provision.Step, error) {
	c, ok, err := st.certificate()
	if err != nil || !ok {
		return nothingToDo("no certificate stored yet"), err
	}
	return provision.SiteCertificate(st.spec, c.fullChain(), []byte(c.KeyPEM)), nil
}

// nothingToDo is a step that finds the server as wanted.
func nothingToDo(name string) provision.Step {
	return provision.Step{
		Name:  name,
		Check: func(context.Context, *provision.Host) (bool, error) { return true, nil },
		Apply: func(context.Context, *provision.Host) error { return nil },
	}
}

// deleteHandler removes the site from its server, then from CHOM.
type deleteHandler struct{ s *Service }

func (deleteHandler) Kind() string { return KindDelete }

func (h deleteHandler) Steps(ctx context.Context, op *store.Operation) ([]jobs.Step, error) {
	site, err := h.s.opSite(ctx, op)
	if err != nil {
		return nil, err
	}
	name := site.SystemUser
	steps := []jobs.Step{h.s.removal(provision.RemoveSiteNginx(name))}
	if runsPHP(site.Type) {
		steps = append(steps, h.s.removal(provision.RemoveSitePool(name)))
	}
	if HasDatabase(site.Type) {
		steps = append(steps, h.s.removal(provision.DropSiteDatabase(name)))
	}
	return append(steps, h.s.removal(provision.RemoveSiteUser(name))), nil
}

// OnSuccess forgets the site and gives its slots back to the organization
// and the VPS.
func (h deleteHandler) OnSuccess(ctx context.Context, op *store.Operation) error {
	return h.s.Store.Tx(ctx, func(tx *store.Store) error {
		site, err := tx.Site(ctx, op.OrganizationID, op.TargetID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteSite(ctx, site.OrganizationID, site.ID); err != nil {
			return err
		}
		if err := tx.ReleaseSiteSlot(ctx, site.OrganizationID); err != nil {
			return err
		}
		return h.s.Servers.Release(ctx, tx, site.OrganizationID, site.VPSID)
	})
}

func (h deleteHandler) OnFailure(ctx context.Context, op *store.Operation, _ error) error {
	site, err := h.s.opSite(ctx, op)
	if err != nil {
		return ignoreGone(err)
	}
	return h.s.setStatus(ctx, site, store.SiteFailed)
}

var errSiteGone = errors.New("the site no longer exists")

// opSite loads the operation's site.
func (s *Service) opSite(ctx context.Context, op *store.Operation) (*store.Site, error) {
	site, err := s.Store.Site(ctx, op.OrganizationID, op.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jobs.Permanent(errSiteGone)
	}
	return site, err
}

func ignoreGone(err error) error {
	if errors.Is(err, errSiteGone) {
		return nil
	}
	return err
}

// setStatus ends an operation's hold on the site.
func (s *Service) setStatus(ctx context.Context, site *store.Site, status string) error {
	err := s.Store.UpdateSite(ctx, site.OrganizationID, site.ID, nil, store.SiteUpdate{Status: &status})
	if err != nil {
		return fmt.Errorf("set site status: %w", err)
	}
	return nil
}

// opState is what a step works from: the site as stored now, the server's
// view of it and the means to reach the server. Secrets opened through it
// are masked in the operation's log.
type opState struct {
	s    *Service
	r    *jobs.Run
	site *store.Site
	spec provision.Site
	host *provision.Host
}

func (s *Service) state(ctx context.Context, r *jobs.Run) (*opState, error) {
	site, err := s.opSite(ctx, r.Op)
	if err != nil {
		return nil, err
	}
	host, err := s.Servers.Host(ctx, site.OrganizationID, site.VPSID)
	if err != nil {
		return nil, hostError(err)
	}
	r.Secret(string(host.Target.PrivateKey))
	return &opState{s: s, r: r, site: site, spec: spec(site), host: host}, nil
}

// hostError makes a VPS that cannot be used a permanent failure.
func hostError(err error) error {
	if p, ok := problem.As(err); ok {
		return jobs.Permanent(fmt.Errorf("the site's VPS: %w", p))
	}
	return err
}

func (st *opState) database() (provision.Database, error) {
	pw, err := st.s.open(st.site, secretDBPassword, st.site.DatabasePasswordSealed)
	if err != nil {
		return provision.Database{}, err
	}
	st.r.Secret(string(pw))
	return provision.Database{Name: st.site.DatabaseName, User: st.site.DatabaseUser, Password: string(pw)}, nil
}

func (st *opState) appSecrets() (appSecrets, error) {
	var a appSecrets
	if err := st.s.openJSON(st.site, secretApp, st.site.AppSecretsSealed, &a); err != nil {
		return a, err
	}
	for _, v := range a.WordPressSalts {
		st.r.Secret(v)
	}
	st.r.Secret(a.LaravelAppKey)
	return a, nil
}

// minSecretLen is the shortest environment value masked in the log: any
// shorter ("true", "production") would mask unrelated words.
const minSecretLen = 8

// envVars returns a Laravel site's .env variables by name, with the
// generated APP_KEY unless the site sets its own.
func (st *opState) envVars() ([]provision.Var, error) {
	env, err := st.s.environment(st.site)
	if err != nil {
		return nil, err
	}
	if _, ok := env["APP_KEY"]; !ok {
		app, err := st.appSecrets()
		if err != nil {
			return nil, err
		}
		env["APP_KEY"] = app.LaravelAppKey
	}
	vars := make([]provision.Var, 0, len(env))
	for name, value := range env {
		if len(value) >= minSecretLen {
			st.r.Secret(value)
		}
		vars = append(vars, provision.Var{Name: name, Value: value})
	}
	slices.SortFunc(vars, func(a, b provision.Var) int { return strings.Compare(a.Name, b.Name) })
	return vars, nil
}

// certificate opens the stored certificate, if any.
func (st *opState) certificate() (storedCertificate, bool, error) {
	var c storedCertificate
	if st.site.CertificateSealed == "" {
		return c, false, nil
	}
	if err := st.s.openJSON(st.site, secretCertificate, st.site.CertificateSealed, &c); err != nil {
		return c, false, err
	}
	st.r.Secret(c.KeyPEM)
	return c, true, nil
}

// remote is a step that builds a provisioning step from the operation's
// current state and ensures it on the site's server.
func (s *Service) remote(name string, build func(st *opState) (provision.Step, error)) jobs.Step {
	return jobs.Step{Name: name, Run: func(ctx context.Context, r *jobs.Run) error {
		st, err := s.state(ctx, r)
		if err != nil {
			return err
		}
		ps, err := build(st)
		if err != nil {
			return err
		}
		return ensure(ctx, r, ps, st.host)
	}}
}

// removal is a delete step; a VPS that is no longer registered has
// nothing left to remove.
func (s *Service) removal(ps provision.Step) jobs.Step {
	return jobs.Step{Name: ps.Name, Run: func(ctx context.Context, r *jobs.Run) error {
		site, err := s.opSite(ctx, r.Op)
		if err != nil {
			return err
		}
		host, err := s.Servers.Host(ctx, site.OrganizationID, site.VPSID)
		if p, ok := problem.As(err); ok && p.Kind == problem.KindNotFound {
			r.Logf("%s: the VPS is no longer registered, so nothing is left to remove on it", ps.Name)
			return nil
		}
		if err != nil {
			return hostError(err)
		}
		r.Secret(string(host.Target.PrivateKey))
		return ensure(ctx, r, ps, host)
	}}
}

// ensure runs ps on host. A command that ran and failed, or a server that
// refuses the connection's credentials, fails the operation at once: the
// same inputs would fail again. A lost connection is retried.
func ensure(ctx context.Context, r *jobs.Run, ps provision.Step, host *provision.Host) error {
	changed, err := ps.Ensure(ctx, host)
	if err != nil {
		var exit *sshx.ExitError
		if errors.As(err, &exit) || errors.Is(err, sshx.ErrAuth) || errors.Is(err, sshx.ErrHostKeyMismatch) {
			return jobs.Permanent(err)
		}
		return err
	}
	if changed {
		r.Logf("%s: done", ps.Name)
	} else {
		r.Logf("%s: already in place", ps.Name)
	}
	return nil
}

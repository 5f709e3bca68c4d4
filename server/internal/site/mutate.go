package site

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

var errHTTPSNeedsACME = "needs ACME configured on the control plane (CHOM_ACME_DIRECTORY_URL), or a certificate uploaded to the site first"

// Create places a new site on a VPS and starts provisioning it. The site
// counts against the organization's max_sites, and takes a slot of the
// VPS's capacity, in the same transaction as its insert, so concurrent
// creates never pass either. With dryRun every check runs and nothing is
// kept: the site returned is the one that would have been created.
func (s *Service) Create(ctx context.Context, orgID string, in CreateInput, dryRun bool) (*store.Site, *store.Operation, error) {
	f := problem.Fields{}
	domain := validate.Hostname(f, "domain", in.Domain)
	site := &store.Site{
		ID: store.NewID(), OrganizationID: orgID, Domain: domain, Aliases: aliases(f, in.Aliases, domain),
		Type: in.Type, PHPVersion: in.PHPVersion, GitRepository: in.GitRepository, GitBranch: in.GitBranch,
		HTTPS: in.HTTPS, Status: store.SiteProvisioning,
	}
	if in.Type == "" {
		f.Add("type", "is required")
	} else {
		validate.OneOf(f, "type", in.Type, Types)
	}
	checkPHPVersion(f, in.PHPVersion)
	checkTypeFields(f, in.Type, in.PHPVersion, in.GitRepository, in.GitBranch, in.Environment)
	if in.Type == provision.SiteLaravel {
		checkGit(f, in.GitRepository, in.GitBranch)
		checkEnvironment(f, in.Environment)
	}
	if in.HTTPS && s.Issuer == nil {
		f.Add("https", errHTTPSNeedsACME)
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	if err := s.prepareSecrets(site, in.Environment); err != nil {
		return nil, nil, fmt.Errorf("create site: %w", err)
	}

	var op *store.Operation
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := takeQuota(ctx, tx, orgID); err != nil {
			return err
		}
		v, err := s.place(ctx, tx, orgID, in.VPSID)
		if err != nil {
			// A host name already taken is what to fix first: it is
			// reported before the lack of room.
			if nerr := checkNamesFree(ctx, tx, site, ""); nerr != nil {
				return nerr
			}
			return err
		}
		site.VPSID = v.ID
		if runsPHP(site.Type) {
			if site.PHPVersion, err = pickPHPVersion(in.PHPVersion, v.PHPVersions, v.Name); err != nil {
				return err
			}
		}
		site.CreatedAt, site.UpdatedAt = s.now(), s.now()
		// The site's host names are unique platform-wide: a name another
		// site holds fails the insert, and which one is found out below.
		if err := tx.CreateSite(ctx, site); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		if op, err = s.enqueue(ctx, tx, site, KindCreate, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "site.create", TargetType: TargetType, TargetID: site.ID,
			Changes: map[string]any{
				"domain": site.Domain, "aliases": site.Aliases, "type": site.Type, "vps_id": site.VPSID,
				"php_version": site.PHPVersion, "git_repository": site.GitRepository, "git_branch": site.GitBranch,
				"https": site.HTTPS, "environment_variables": len(in.Environment),
			},
		})
	})
	if errors.Is(err, errDryRun) {
		return site, nil, nil
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, namesTaken(ctx, s.Store, site)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("create site: %w", err)
	}
	return site, op, nil
}

// namesTaken explains a create that conflicted on its host names, once its
// transaction is over: it names the fields whose names another site holds
// (all of them when that site is gone in the meantime).
func namesTaken(ctx context.Context, st *store.Store, site *store.Site) error {
	if err := checkNamesFree(ctx, st, site, ""); err != nil {
		return err
	}
	return domainTaken(site, site.Names())
}

// prepareSecrets derives the site's names from its id and generates and
// seals its secrets.
func (s *Service) prepareSecrets(site *store.Site, env map[string]string) error {
	name, err := provision.SiteName(site.ID)
	if err != nil {
		return err
	}
	site.SystemUser = name
	if !HasDatabase(site.Type) {
		return nil
	}
	site.DatabaseName, site.DatabaseUser = name, name
	site.DatabasePasswordSealed = s.seal(site, secretDBPassword, []byte(newDatabasePassword()))
	if site.AppSecretsSealed, err = s.sealJSON(site, secretApp, newAppSecrets(site.Type)); err != nil {
		return err
	}
	if len(env) > 0 {
		if site.EnvironmentSealed, err = s.sealJSON(site, secretEnvironment, env); err != nil {
			return err
		}
	}
	return nil
}

// place takes a slot on the VPS asked for, or on the one with most room.
func (s *Service) place(ctx context.Context, tx *store.Store, orgID, vpsID string) (*store.VPS, error) {
	if vpsID != "" {
		return s.Servers.Reserve(ctx, tx, orgID, vpsID)
	}
	return s.Servers.Allocate(ctx, tx, orgID)
}

// takeQuota counts the new site against the organization's max_sites, or
// refuses it at the limit. One conditional update decides, so concurrent
// creates never pass the limit together.
func takeQuota(ctx context.Context, tx *store.Store, orgID string) error {
	ok, err := tx.TakeSiteSlot(ctx, orgID)
	if err != nil || ok {
		return err
	}
	org, err := tx.Organization(ctx, orgID)
	if err != nil {
		return err
	}
	return problem.Quota("max_sites", org.MaxSites)
}

// checkNamesFree refuses host names another site answers to.
func checkNamesFree(ctx context.Context, tx *store.Store, site *store.Site, exceptSiteID string) error {
	taken, err := tx.TakenSiteDomains(ctx, site.Names(), exceptSiteID)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		return domainTaken(site, taken)
	}
	return nil
}

// domainTaken names the fields whose host names another site answers to.
// It does not say which site: that may be another organization's.
func domainTaken(site *store.Site, taken []string) error {
	fields := map[string]string{}
	for _, name := range taken {
		if name == site.Domain {
			fields["domain"] = "is already used by another site"
			continue
		}
		if i := slices.Index(site.Aliases, name); i >= 0 {
			fields[fmt.Sprintf("aliases[%d]", i)] = "is already used by another site"
		}
	}
	return &problem.Error{
		Kind: problem.KindConflict, Code: "domain_taken",
		Message: "another site already answers to " + strings.Join(taken, ", "),
		Fields:  fields,
	}
}

// Update changes a site and starts the operation that applies the change
// (a failed site is provisioned again even when nothing changed). Domain,
// type and VPS are fixed at creation. With dryRun every check runs and
// nothing is kept.
func (s *Service) Update(ctx context.Context, orgID, id string, in UpdateInput, dryRun bool) (*store.Site, *store.Operation, error) {
	var site *store.Site
	var op *store.Operation
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.Site(ctx, orgID, id)
		if errors.Is(err, store.ErrNotFound) {
			return errSiteNotFound
		}
		if err != nil {
			return err
		}
		next, u, changes, err := s.plan(cur, in)
		if err != nil {
			return err
		}
		if !slices.Contains(store.SiteIdle, cur.Status) {
			return errBusy
		}
		if u.PHPVersion != nil {
			v, err := tx.VPS(ctx, orgID, cur.VPSID)
			if err != nil {
				return fmt.Errorf("vps of the site: %w", err)
			}
			if _, err := pickPHPVersion(next.PHPVersion, v.PHPVersions, v.Name); err != nil {
				return err
			}
		}
		aliasesChanged := !slices.Equal(next.Aliases, cur.Aliases)
		if aliasesChanged {
			if err := checkNamesFree(ctx, tx, next, cur.ID); err != nil {
				return err
			}
		}
		u.Status = ptr(store.SiteProvisioning)
		if err := tx.UpdateSite(ctx, orgID, id, store.SiteIdle, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errBusy
			}
			return err
		}
		if aliasesChanged {
			if err := tx.SetSiteAliases(ctx, orgID, id, next.Aliases); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return domainTaken(next, next.Aliases)
				}
				return err
			}
		}
		if site, err = tx.Site(ctx, orgID, id); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		if op, err = s.enqueue(ctx, tx, site, KindUpdate, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "site.update", TargetType: TargetType, TargetID: id, Changes: changes,
		})
	})
	if errors.Is(err, errDryRun) {
		return site, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("update site: %w", err)
	}
	return site, op, nil
}

// plan checks in against the site cur and returns the site as it would be,
// the update to store and the changes to audit.
func (s *Service) plan(cur *store.Site, in UpdateInput) (*store.Site, store.SiteUpdate, map[string]any, error) {
	f := problem.Fields{}
	next := *cur
	var u store.SiteUpdate
	changes := map[string]any{}
	if in.Domain != nil && validate.Hostname(f, "domain", *in.Domain) != cur.Domain {
		f.Add("domain", "cannot be changed; create a new site for another domain")
	}
	if in.Type != nil && *in.Type != cur.Type {
		f.Add("type", "cannot be changed; create a new site of the other type")
	}
	if in.VPSID != nil && *in.VPSID != cur.VPSID {
		f.Add("vps_id", "cannot be changed; create a new site on the other VPS")
	}
	if in.Aliases != nil {
		next.Aliases = aliases(f, *in.Aliases, cur.Domain)
		if !slices.Equal(next.Aliases, cur.Aliases) {
			changes["aliases"] = next.Aliases
		}
	}
	if in.PHPVersion != nil && *in.PHPVersion != cur.PHPVersion {
		switch {
		case cur.Type == provision.SiteHTML:
			f.Add("php_version", "html sites run no PHP")
		case *in.PHPVersion == "":
			f.Add("php_version", "must be a PHP version such as 8.2")
		default:
			checkPHPVersion(f, *in.PHPVersion)
		}
		next.PHPVersion, u.PHPVersion = *in.PHPVersion, in.PHPVersion
		changes["php_version"] = next.PHPVersion
	}
	if in.GitRepository != nil && *in.GitRepository != cur.GitRepository {
		next.GitRepository, u.GitRepository = *in.GitRepository, in.GitRepository
		changes["git_repository"] = next.GitRepository
	}
	if in.GitBranch != nil && *in.GitBranch != cur.GitBranch {
		next.GitBranch, u.GitBranch = *in.GitBranch, in.GitBranch
		changes["git_branch"] = next.GitBranch
	}
	var env map[string]string
	if in.Environment != nil {
		env = *in.Environment
	}
	checkTypeFields(f, cur.Type, "", next.GitRepository, next.GitBranch, env)
	if cur.Type == provision.SiteLaravel {
		checkGit(f, next.GitRepository, next.GitBranch)
		checkEnvironment(f, env)
	}
	if in.HTTPS != nil && *in.HTTPS != cur.HTTPS {
		if *in.HTTPS && s.Issuer == nil && cur.CertificateSealed == "" {
			f.Add("https", errHTTPSNeedsACME)
		}
		next.HTTPS, u.HTTPS = *in.HTTPS, in.HTTPS
		changes["https"] = next.HTTPS
	}
	if err := f.Err(); err != nil {
		return nil, u, nil, err
	}
	if in.Environment != nil && cur.Type == provision.SiteLaravel {
		sealed := ""
		if len(env) > 0 {
			var err error
			if sealed, err = s.sealJSON(cur, secretEnvironment, env); err != nil {
				return nil, u, nil, err
			}
		}
		next.EnvironmentSealed, u.EnvironmentSealed = sealed, &sealed
		// The names only: values may be secrets.
		changes["environment_variables"] = slices.Sorted(maps.Keys(env))
	}
	return &next, u, changes, nil
}

// Suspend makes the site serve a maintenance page (503) until Resume.
func (s *Service) Suspend(ctx context.Context, orgID, id string) (*store.Site, *store.Operation, error) {
	return s.start(ctx, orgID, id, KindSuspend, "site.suspend", store.SiteUpdate{Suspended: ptr(true)}, nil, nil)
}

// Resume makes a suspended site serve its content again.
func (s *Service) Resume(ctx context.Context, orgID, id string) (*store.Site, *store.Operation, error) {
	return s.start(ctx, orgID, id, KindResume, "site.resume", store.SiteUpdate{Suspended: ptr(false)}, nil, nil)
}

// Delete starts removing the site from its server: server block, pool,
// user, files and database. The site is gone once the operation succeeds.
func (s *Service) Delete(ctx context.Context, orgID, id string) (*store.Site, *store.Operation, error) {
	return s.start(ctx, orgID, id, KindDelete, "site.delete", store.SiteUpdate{Status: ptr(store.SiteDeleting)}, nil, nil)
}

// start applies u to an idle site, sets it provisioning (unless u sets a
// status) and enqueues an operation of kind with params, recording action
// with changes in the audit log.
func (s *Service) start(ctx context.Context, orgID, id, kind, action string, u store.SiteUpdate, params any, changes map[string]any) (*store.Site, *store.Operation, error) {
	if u.Status == nil {
		u.Status = ptr(store.SiteProvisioning)
	}
	var site *store.Site
	var op *store.Operation
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		err := tx.UpdateSite(ctx, orgID, id, store.SiteIdle, u)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errSiteNotFound
		case errors.Is(err, store.ErrConflict):
			return errBusy
		case err != nil:
			return err
		}
		if site, err = tx.Site(ctx, orgID, id); err != nil {
			return err
		}
		if op, err = s.enqueue(ctx, tx, site, kind, params); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{OrgID: orgID, Action: action, TargetType: TargetType, TargetID: id, Changes: changes})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", strings.ReplaceAll(action, ".", " "), err)
	}
	return site, op, nil
}

func (s *Service) enqueue(ctx context.Context, tx *store.Store, site *store.Site, kind string, params any) (*store.Operation, error) {
	return s.Jobs.Enqueue(ctx, tx, jobs.Input{
		OrgID: site.OrganizationID, Kind: kind, TargetType: TargetType, TargetID: site.ID, Params: params,
	})
}

func ptr[T any](v T) *T { return &v }

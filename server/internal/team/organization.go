package team

import (
	"context"
	"fmt"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Organization returns the caller's organization.
func (s *Service) Organization(ctx context.Context, p auth.Principal) (*store.Organization, error) {
	o, err := s.store.Organization(ctx, p.OrgID)
	if err != nil {
		return nil, fmt.Errorf("get organization: %w", err)
	}
	return o, nil
}

// OrganizationUpdate changes the settings that are set; nil leaves one as is.
type OrganizationUpdate struct {
	Name       *string
	Require2FA *bool
}

// UpdateOrganization changes the organization's settings. Requiring a
// second factor is refused while the caller has none: the setting would
// lock their own token out of everything but enrolment.
func (s *Service) UpdateOrganization(ctx context.Context, p auth.Principal, in OrganizationUpdate) (*store.Organization, error) {
	f := problem.Fields{}
	if in.Name != nil {
		name := validate.Name(f, "name", *in.Name, 100)
		in.Name = &name
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out *store.Organization
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		o, err := tx.Organization(ctx, p.OrgID)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		if in.Name != nil && *in.Name != o.Name {
			changes["name"] = map[string]any{"from": o.Name, "to": *in.Name}
			o.Name = *in.Name
		}
		if in.Require2FA != nil && *in.Require2FA != o.Require2FA {
			if *in.Require2FA {
				if err := s.callerHasTOTP(ctx, tx, p); err != nil {
					return err
				}
			}
			changes["require_2fa"] = map[string]any{"from": o.Require2FA, "to": *in.Require2FA}
			o.Require2FA = *in.Require2FA
		}
		if len(changes) == 0 {
			out = o
			return nil
		}
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: "organization.update", TargetType: "organization", TargetID: o.ID, Changes: changes,
		}); err != nil {
			return err
		}
		out, err = tx.Organization(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update organization: %w", err)
	}
	return out, nil
}

func (s *Service) callerHasTOTP(ctx context.Context, tx *store.Store, p auth.Principal) error {
	u, err := tx.User(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		return problem.Conflict("two_factor_not_enabled",
			"turn on two-factor authentication for your own account (/api/v1/me/2fa) before requiring it")
	}
	return nil
}

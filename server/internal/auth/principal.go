package auth

import "context"

// Principal is the authenticated caller of a request, bound to exactly one
// organization (the tenant every query of the request is scoped to).
type Principal struct {
	UserID    string
	OrgID     string
	TokenID   string
	Role      Role
	Abilities AbilitySet
	// SecondFactorMissing is set by authentication when the organization
	// requires two-factor authentication and the user has not enabled it.
	SecondFactorMissing bool
}

// Can reports whether both the role and the token's abilities grant p.
func (p Principal) Can(perm Permission) bool {
	return p.Role.Allows(perm) && p.Abilities.Has(AbilityFor(perm))
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Package auth holds credentials and authorization rules: password hashing,
// API tokens, TOTP second factors, roles and abilities.
package auth

import (
	"slices"
	"strings"
)

// Role is a member's role in an organization.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Roles lists every role.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Ability is what a token may be used for, independent of its user's role.
type Ability string

// Abilities a token can carry.
const (
	AbilityRead  Ability = "read"
	AbilityWrite Ability = "write"
	AbilityAdmin Ability = "admin"
)

// Abilities lists every ability.
var Abilities = []Ability{AbilityRead, AbilityWrite, AbilityAdmin}

// Valid reports whether a is a known ability.
func (a Ability) Valid() bool { return slices.Contains(Abilities, a) }

// Permission is what a route requires.
type Permission int

// Permissions checked by the API.
const (
	// Read any object of the organization.
	Read Permission = iota + 1
	// ManageSites creates, changes and deletes sites and backups.
	ManageSites
	// ManageVPS registers, changes and removes servers.
	ManageVPS
	// ManageTeam invites, changes and removes members.
	ManageTeam
	// ManageTokens creates and revokes other members' tokens.
	ManageTokens
	// ReadSecrets reveals stored credentials (database passwords).
	ReadSecrets
	// ManageOrganization changes organization settings.
	ManageOrganization
	// ReadAudit reads the organization's audit log.
	ReadAudit
)

// rolePermissions is the one table of who may do what.
var rolePermissions = map[Role][]Permission{
	RoleViewer: {Read},
	RoleMember: {Read, ManageSites},
	RoleAdmin:  {Read, ManageSites, ManageVPS, ManageTeam, ManageTokens, ReadSecrets, ReadAudit},
	RoleOwner:  {Read, ManageSites, ManageVPS, ManageTeam, ManageTokens, ReadSecrets, ManageOrganization, ReadAudit},
}

// requiredAbility is the token ability each permission needs.
var requiredAbility = map[Permission]Ability{
	Read:               AbilityRead,
	ManageSites:        AbilityWrite,
	ManageVPS:          AbilityWrite,
	ManageTeam:         AbilityAdmin,
	ManageTokens:       AbilityAdmin,
	ReadSecrets:        AbilityAdmin,
	ManageOrganization: AbilityAdmin,
	ReadAudit:          AbilityRead,
}

// Allows reports whether the role grants p.
func (r Role) Allows(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Outranks reports whether r may grant or change role other: nobody but an
// owner hands out or takes away ownership.
func (r Role) Outranks(other Role) bool {
	if other == RoleOwner {
		return r == RoleOwner
	}
	return r == RoleOwner || r == RoleAdmin
}

// AbilityFor returns the token ability p needs.
func AbilityFor(p Permission) Ability { return requiredAbility[p] }

// AbilitySet is a token's abilities.
type AbilitySet []Ability

// Has reports whether the set holds a; admin implies write and read, write implies read.
func (s AbilitySet) Has(a Ability) bool {
	for _, x := range s {
		if x == a || x == AbilityAdmin || (x == AbilityWrite && a == AbilityRead) {
			return true
		}
	}
	return false
}

// String is the stored form: a sorted comma-separated list.
func (s AbilitySet) String() string {
	parts := make([]string, 0, len(s))
	for _, a := range s {
		parts = append(parts, string(a))
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ",")
}

// ParseAbilities reads the stored form.
func ParseAbilities(s string) AbilitySet {
	var out AbilitySet
	for _, p := range strings.Split(s, ",") {
		if a := Ability(strings.TrimSpace(p)); a.Valid() {
			out = append(out, a)
		}
	}
	return out
}

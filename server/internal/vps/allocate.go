package vps

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

// Allocate reserves a site slot on the organization's active VPS with the
// most free capacity, inside the caller's transaction tx, and returns that
// VPS with the slot counted. Each reservation is one conditional update, so
// concurrent allocations never pass a VPS's capacity: one that loses a race
// for the last slot moves on to the next candidate. With no room anywhere
// it returns a 409 problem naming capacity.
func (s *Service) Allocate(ctx context.Context, tx *store.Store, orgID string) (*store.VPS, error) {
	candidates, err := tx.VPSWithFreeCapacity(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("allocate vps: %w", err)
	}
	for _, c := range candidates {
		v, err := tx.ReserveVPSSlot(ctx, orgID, c.ID)
		if err != nil {
			return nil, fmt.Errorf("allocate vps: %w", err)
		}
		if v != nil {
			return v, nil
		}
	}
	return nil, &problem.Error{
		Kind: problem.KindConflict, Code: "no_vps_capacity",
		Message: "no active VPS of the organization has room for another site",
		Fields:  map[string]string{"capacity": "every active VPS is full; raise a VPS's capacity or add a VPS"},
	}
}

// Reserve takes a site slot on the VPS vpsID inside tx, for a site placed
// on an explicit server. The VPS must be active and have room; otherwise
// the problem names vps_id.
func (s *Service) Reserve(ctx context.Context, tx *store.Store, orgID, vpsID string) (*store.VPS, error) {
	reserved, err := tx.ReserveVPSSlot(ctx, orgID, vpsID)
	if err != nil {
		return nil, fmt.Errorf("reserve vps: %w", err)
	}
	if reserved != nil {
		return reserved, nil
	}
	// No slot taken: read the server to say why.
	v, err := tx.VPS(ctx, orgID, vpsID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.Invalid("vps_id", "is not a VPS of this organization")
	}
	if err != nil {
		return nil, fmt.Errorf("reserve vps: %w", err)
	}
	if v.Status != store.VPSActive {
		return nil, &problem.Error{
			Kind: problem.KindConflict, Code: "vps_not_active",
			Message: fmt.Sprintf("VPS %q is %s; sites go only to active servers", v.Name, v.Status),
			Fields:  map[string]string{"vps_id": "is not active"},
		}
	}
	return nil, &problem.Error{
		Kind: problem.KindConflict, Code: "vps_full",
		Message: fmt.Sprintf("VPS %q is at its capacity of %d sites", v.Name, v.Capacity),
		Fields:  map[string]string{"vps_id": fmt.Sprintf("is at its capacity of %d sites", v.Capacity)},
	}
}

// Release gives back a slot taken by Allocate or Reserve, inside tx. A VPS
// that no longer exists (deleted with force) has nothing to give back.
func (s *Service) Release(ctx context.Context, tx *store.Store, orgID, vpsID string) error {
	ok, err := tx.ReleaseVPSSlot(ctx, orgID, vpsID)
	if err != nil {
		return fmt.Errorf("release vps: %w", err)
	}
	if !ok {
		s.Log.WarnContext(ctx, "released a vps slot that was not taken", "organization_id", orgID, "vps_id", vpsID)
	}
	return nil
}

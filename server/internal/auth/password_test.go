package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHasherRoundTrip(t *testing.T) {
	h := NewHasher(2)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "correct horse") {
		t.Fatalf("unexpected hash %q", hash)
	}
	if err := h.Verify(ctx, hash, "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	for _, wrong := range []string{"", "correct horse batter", "correct horse battery "} {
		if err := h.Verify(ctx, hash, wrong); !errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("Verify(%q) = %v, want ErrPasswordMismatch", wrong, err)
		}
	}
	// No stored hash (unknown user) is checked against the dummy and fails.
	if err := h.Verify(ctx, "", "anything"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("empty hash: %v", err)
	}
	again, _ := h.Hash(ctx, "correct horse battery")
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// A burst of logins waits for a hashing slot instead of running unbounded.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "password-123"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with every slot taken: %v, want a deadline error", err)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "password-123"); err != nil {
		t.Fatalf("Hash after the slot was freed: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	cases := []struct {
		role      Role
		abilities AbilitySet
		perm      Permission
		want      bool
	}{
		{RoleViewer, AbilitySet{AbilityAdmin}, Read, true},
		{RoleViewer, AbilitySet{AbilityAdmin}, ManageSites, false},
		{RoleMember, AbilitySet{AbilityWrite}, ManageSites, true},
		{RoleMember, AbilitySet{AbilityAdmin}, ManageVPS, false},
		{RoleMember, AbilitySet{AbilityAdmin}, ManageTeam, false},
		{RoleAdmin, AbilitySet{AbilityWrite}, ManageVPS, true},
		{RoleAdmin, AbilitySet{AbilityWrite}, ManageTeam, false},
		{RoleAdmin, AbilitySet{AbilityAdmin}, ManageTeam, true},
		{RoleAdmin, AbilitySet{AbilityAdmin}, ManageOrganization, false},
		{RoleOwner, AbilitySet{AbilityRead}, ManageSites, false},
		{RoleOwner, AbilitySet{AbilityAdmin}, ManageOrganization, true},
	}
	for _, tc := range cases {
		p := Principal{Role: tc.role, Abilities: tc.abilities}
		if got := p.Can(tc.perm); got != tc.want {
			t.Errorf("%s with %v: Can(%d) = %v, want %v", tc.role, tc.abilities, tc.perm, got, tc.want)
		}
	}
}

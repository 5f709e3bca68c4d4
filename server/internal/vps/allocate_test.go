package vps_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

// addVPS inserts an active server with the given capacity straight into
// the store: allocation only reads rows.
func addVPS(t *testing.T, e *apitest.Env, orgID, name string, capacity int, status string) *store.VPS {
	t.Helper()
	id := store.NewID()
	v := &store.VPS{
		ID: id, OrganizationID: orgID, Name: name, Host: "10.77.1.2", Port: 22, SSHUser: "root",
		SSHKeySealed: e.Server.Box.Seal([]byte("unused"), store.VPSKeyContext(id)),
		Capacity:     capacity, Status: status,
	}
	if err := e.Server.Store.CreateVPS(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return v
}

func allocated(t *testing.T, e *apitest.Env, orgID string) map[string]int {
	t.Helper()
	list, _, err := e.Server.Store.ListVPS(context.Background(), orgID, store.VPSFilter{}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, v := range list {
		if v.SitesAllocated > v.Capacity {
			t.Errorf("%s holds %d sites, over its capacity %d", v.Name, v.SitesAllocated, v.Capacity)
		}
		out[v.Name] = v.SitesAllocated
	}
	return out
}

// TestAllocateIsExact races 50 allocations, each in its own transaction,
// for 40 slots spread over four servers: exactly 40 succeed, every other
// one fails with the capacity problem, and no server passes its capacity.
func TestAllocateIsExact(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		owner := e.Register(t, "alloc")
		other := e.Register(t, "other")
		for i, c := range []int{5, 10, 10, 15} {
			addVPS(t, e, owner.OrgID, fmt.Sprintf("web-%d", i), c, store.VPSActive)
		}
		// Never candidates: not active, or another tenant's.
		addVPS(t, e, owner.OrgID, "down", 50, store.VPSUnreachable)
		addVPS(t, e, other.OrgID, "elsewhere", 50, store.VPSActive)

		const attempts = 50
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ok, nop int
			errs    []error
		)
		start := make(chan struct{})
		for range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ctx := context.Background()
				err := e.Server.Store.Tx(ctx, func(tx *store.Store) error {
					_, err := e.Server.VPS.Allocate(ctx, tx, owner.OrgID)
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				p, isProblem := problem.As(err)
				switch {
				case err == nil:
					ok++
				case isProblem && p.Code == "no_vps_capacity" && p.Fields["capacity"] != "":
					nop++
				default:
					errs = append(errs, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("allocation failed unexpectedly: %v", err)
		}
		if ok != 40 || nop != 10 {
			t.Fatalf("%d allocations succeeded and %d found no capacity, want 40 and 10", ok, nop)
		}
		got := allocated(t, e, owner.OrgID)
		want := map[string]int{"web-0": 5, "web-1": 10, "web-2": 10, "web-3": 15, "down": 0}
		for name, n := range want {
			if got[name] != n {
				t.Errorf("%s: %d sites allocated, want %d (all: %v)", name, got[name], n, got)
			}
		}
		if n := allocated(t, e, other.OrgID)["elsewhere"]; n != 0 {
			t.Errorf("another tenant's server got %d sites", n)
		}
	})
}

func TestAllocatePrefersFreeCapacityAndReleases(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "alloc")
	small := addVPS(t, e, owner.OrgID, "small", 2, store.VPSActive)
	big := addVPS(t, e, owner.OrgID, "big", 3, store.VPSActive)
	ctx := context.Background()
	alloc := func() string {
		t.Helper()
		var name string
		err := e.Server.Store.Tx(ctx, func(tx *store.Store) error {
			v, err := e.Server.VPS.Allocate(ctx, tx, owner.OrgID)
			if v != nil {
				name = v.Name
			}
			return err
		})
		if err != nil {
			t.Fatalf("allocate: %v", err)
		}
		return name
	}
	// Free: small 2, big 3 → big; 2 and 2 → by name, big; then small, ...
	var order []string
	for range 5 {
		order = append(order, alloc())
	}
	if fmt.Sprint(order) != "[big big small big small]" {
		t.Fatalf("allocation order %v", order)
	}

	err := e.Server.Store.Tx(ctx, func(tx *store.Store) error {
		_, err := e.Server.VPS.Reserve(ctx, tx, owner.OrgID, small.ID)
		return err
	})
	if p, ok := problem.As(err); !ok || p.Code != "vps_full" || p.Fields["vps_id"] == "" {
		t.Fatalf("reserve on a full server: %v", err)
	}
	err = e.Server.Store.Tx(ctx, func(tx *store.Store) error {
		return e.Server.VPS.Release(ctx, tx, owner.OrgID, small.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Server.Store.Tx(ctx, func(tx *store.Store) error {
		v, err := e.Server.VPS.Reserve(ctx, tx, owner.OrgID, small.ID)
		if err == nil && v.SitesAllocated != 2 {
			t.Errorf("reserved server reports %d sites", v.SitesAllocated)
		}
		return err
	})
	if err != nil {
		t.Fatalf("reserve after release: %v", err)
	}

	// Released slots come back; an inactive or foreign server is refused.
	down := addVPS(t, e, owner.OrgID, "down", 5, store.VPSError)
	err = e.Server.Store.Tx(ctx, func(tx *store.Store) error {
		_, err := e.Server.VPS.Reserve(ctx, tx, owner.OrgID, down.ID)
		return err
	})
	if p, ok := problem.As(err); !ok || p.Code != "vps_not_active" {
		t.Fatalf("reserve on a server in error: %v", err)
	}
	stranger := e.Register(t, "stranger")
	err = e.Server.Store.Tx(ctx, func(tx *store.Store) error {
		_, err := e.Server.VPS.Reserve(ctx, tx, stranger.OrgID, big.ID)
		return err
	})
	if p, ok := problem.As(err); !ok || p.Fields["vps_id"] == "" {
		t.Fatalf("reserve on another tenant's server: %v", err)
	}

	// The counts show through the API.
	resp := e.Do(t, http.MethodGet, "/api/v1/vps/"+big.ID, owner.Token, nil)
	if n := resp.Map(t)["sites_allocated"]; n != float64(3) {
		t.Fatalf("sites_allocated %v, want 3", n)
	}
}

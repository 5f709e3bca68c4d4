// Package vps manages the servers sites run on: registering them over SSH
// with a pinned host key, bootstrapping them, watching their health, and
// allocating their capacity to sites.
package vps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Operation kinds this package runs.
const (
	// KindBootstrap connects, pins the host key, installs and configures
	// the software sites need, and makes the VPS active.
	KindBootstrap = "vps.bootstrap"
	// KindConnect checks a bootstrapped VPS again after its connection
	// settings changed.
	KindConnect = "vps.connect"
	// TargetType is the operations' target type.
	TargetType = "vps"
)

// Executor is what the service needs of the SSH executor.
type Executor interface {
	provision.Runner
	Scan(ctx context.Context, host string, port int, user string, key []byte, expectedFingerprint string) (sshx.HostKey, error)
}

// Enqueuer starts operations inside the caller's transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *store.Store, in jobs.Input) (*store.Operation, error)
}

// Deps is what the service is built from.
type Deps struct {
	Store    *store.Store
	Box      *secrets.Box
	Executor Executor
	Jobs     Enqueuer
	Network  *NetworkPolicy
	Log      *slog.Logger
	// HealthTimeout bounds one health check. Default 30s.
	HealthTimeout time.Duration
}

// Service applies the VPS rules.
type Service struct {
	Deps
	now func() time.Time
}

// New returns the VPS service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.HealthTimeout <= 0 {
		d.HealthTimeout = 30 * time.Second
	}
	return &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

var errVPSNotFound = problem.NotFound("vps")

// resolveTimeout bounds the DNS lookup that checks a new server's host.
const resolveTimeout = 5 * time.Second

// List returns the organization's servers by name.
func (s *Service) List(ctx context.Context, orgID string, f store.VPSFilter, p store.Page) ([]store.VPS, int64, error) {
	if f.Status != "" {
		fields := problem.Fields{}
		validate.OneOf(fields, "status", f.Status, store.VPSStatuses)
		if err := fields.Err(); err != nil {
			return nil, 0, err
		}
	}
	out, total, err := s.Store.ListVPS(ctx, orgID, f, p)
	if err != nil {
		return nil, 0, fmt.Errorf("list vps: %w", err)
	}
	return out, total, nil
}

// Get returns one server.
func (s *Service) Get(ctx context.Context, orgID, id string) (*store.VPS, error) {
	v, err := s.Store.VPS(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errVPSNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get vps: %w", err)
	}
	return v, nil
}

// CreateInput registers a server. Nil fields take their defaults.
type CreateInput struct {
	Name          string
	Host          string
	Port          *int
	SSHUser       *string
	SSHPrivateKey string
	// ExpectedHostKeyFingerprint, when set, is the only host key accepted
	// at the first connection.
	ExpectedHostKeyFingerprint *string
	Labels                     map[string]string
	Capacity                   *int
}

// Create registers a server and starts its bootstrap. The VPS is pending
// until the operation makes it active (or error).
func (s *Service) Create(ctx context.Context, orgID string, in CreateInput) (*store.VPS, *store.Operation, error) {
	f := problem.Fields{}
	v := &store.VPS{
		ID: store.NewID(), OrganizationID: orgID, Status: store.VPSPending,
		Port: DefaultPort, SSHUser: DefaultSSHUser, Capacity: DefaultCapacity,
		Labels: map[string]string{}, PHPVersions: []string{},
	}
	v.Name = checkName(f, in.Name)
	v.Host = checkHostSyntax(f, in.Host)
	if in.Port != nil {
		v.Port = *in.Port
		checkPort(f, v.Port)
	}
	if in.SSHUser != nil {
		v.SSHUser = *in.SSHUser
		checkSSHUser(f, v.SSHUser)
	}
	checkPrivateKey(f, in.SSHPrivateKey)
	if in.ExpectedHostKeyFingerprint != nil {
		v.ExpectedHostKeyFingerprint = checkFingerprint(f, *in.ExpectedHostKeyFingerprint)
	}
	if in.Labels != nil {
		checkLabels(f, in.Labels)
		v.Labels = maps.Clone(in.Labels)
	}
	if in.Capacity != nil {
		v.Capacity = *in.Capacity
		checkCapacity(f, v.Capacity)
	}
	if _, bad := f["host"]; !bad {
		rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		if _, err := s.Network.Resolve(rctx, v.Host); err != nil {
			f.Add("host", hostRefusal(err))
		}
		cancel()
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	v.SSHKeySealed = s.Box.Seal([]byte(in.SSHPrivateKey), store.VPSKeyContext(v.ID))

	var op *store.Operation
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		org, err := tx.LockOrganization(ctx, orgID)
		if err != nil {
			return err
		}
		n, err := tx.CountVPS(ctx, orgID)
		if err != nil {
			return err
		}
		if n >= org.MaxVPS {
			return problem.Quota("max_vps", org.MaxVPS)
		}
		if err := tx.CreateVPS(ctx, v); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nameTaken(v.Name)
			}
			return err
		}
		if op, err = s.Jobs.Enqueue(ctx, tx, jobs.Input{OrgID: orgID, Kind: KindBootstrap, TargetType: TargetType, TargetID: v.ID}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "vps.create", TargetType: TargetType, TargetID: v.ID,
			Changes: map[string]any{
				"name": v.Name, "host": v.Host, "port": v.Port, "ssh_user": v.SSHUser,
				"expected_host_key_fingerprint": v.ExpectedHostKeyFingerprint,
				"labels":                        v.Labels, "capacity": v.Capacity, "operation_id": op.ID,
			},
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create vps: %w", err)
	}
	return v, op, nil
}

// UpdateInput changes a server; nil fields stay as they are. Host cannot
// change: it may be repeated with its current value.
type UpdateInput struct {
	Name                       *string
	Host                       *string
	Port                       *int
	SSHUser                    *string
	SSHPrivateKey              *string
	ExpectedHostKeyFingerprint *string
	// Labels replaces every label when not nil.
	Labels   map[string]string
	Capacity *int
}

// Update changes a server's settings. Name, labels and capacity apply at
// once. A change of port, user, private key or expected fingerprint sets
// the VPS pending and starts an operation that connects again (and
// bootstraps a VPS that never finished): it is returned, else nil.
func (s *Service) Update(ctx context.Context, orgID, id string, in UpdateInput) (*store.VPS, *store.Operation, error) {
	var (
		out *store.VPS
		op  *store.Operation
	)
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.VPSForUpdate(ctx, orgID, id)
		if errors.Is(err, store.ErrNotFound) {
			return errVPSNotFound
		}
		if err != nil {
			return err
		}
		u, changes, reconnect, err := s.plan(cur, in)
		if err != nil {
			return err
		}
		if reconnect && (cur.Status == store.VPSPending || cur.Status == store.VPSProvisioning) {
			return problem.Conflict("vps_busy", "an operation is working on this VPS; change its connection settings once it has finished")
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if reconnect {
			pending := store.VPSPending
			u.Status = &pending
		}
		if err := tx.UpdateVPS(ctx, orgID, id, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nameTaken(*u.Name)
			}
			return err
		}
		if reconnect {
			kind := KindConnect
			if cur.BootstrappedAt == nil {
				kind = KindBootstrap
			}
			if op, err = s.Jobs.Enqueue(ctx, tx, jobs.Input{OrgID: orgID, Kind: kind, TargetType: TargetType, TargetID: id}); err != nil {
				return err
			}
			changes["operation_id"] = op.ID
		}
		if err := audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "vps.update", TargetType: TargetType, TargetID: id, Changes: changes,
		}); err != nil {
			return err
		}
		out, err = tx.VPS(ctx, orgID, id)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("update vps: %w", err)
	}
	return out, op, nil
}

// plan validates in against the current server and returns the update,
// the audit changes, and whether the connection must be checked again.
func (s *Service) plan(cur *store.VPS, in UpdateInput) (store.VPSUpdate, map[string]any, bool, error) {
	f := problem.Fields{}
	var u store.VPSUpdate
	changes := map[string]any{}
	reconnect := false
	if in.Name != nil {
		name := checkName(f, *in.Name)
		if name != cur.Name {
			u.Name, changes["name"] = &name, name
		}
	}
	if in.Host != nil && *in.Host != cur.Host {
		f.Add("host", "cannot be changed; register the new server as another VPS")
	}
	if in.Port != nil {
		checkPort(f, *in.Port)
		if *in.Port != cur.Port {
			u.Port, changes["port"], reconnect = in.Port, *in.Port, true
		}
	}
	if in.SSHUser != nil {
		checkSSHUser(f, *in.SSHUser)
		if *in.SSHUser != cur.SSHUser {
			u.SSHUser, changes["ssh_user"], reconnect = in.SSHUser, *in.SSHUser, true
		}
	}
	if in.SSHPrivateKey != nil {
		checkPrivateKey(f, *in.SSHPrivateKey)
		// The new key is always taken: comparing would mean opening the
		// old one for nothing. The audit log only learns that it changed.
		sealed := s.Box.Seal([]byte(*in.SSHPrivateKey), store.VPSKeyContext(cur.ID))
		u.SSHKeySealed, changes["ssh_key_replaced"], reconnect = &sealed, true, true
	}
	if in.ExpectedHostKeyFingerprint != nil {
		fp := checkFingerprint(f, *in.ExpectedHostKeyFingerprint)
		if fp != cur.ExpectedHostKeyFingerprint {
			u.ExpectedHostKeyFingerprint, changes["expected_host_key_fingerprint"] = &fp, fp
			// Only a fingerprint the pinned key does not have calls for a
			// new scan; clearing it or confirming the pin does not.
			reconnect = reconnect || (fp != "" && fp != cur.HostKeyFingerprint)
		}
	}
	if in.Labels != nil {
		checkLabels(f, in.Labels)
		if !maps.Equal(in.Labels, cur.Labels) {
			u.Labels, changes["labels"] = maps.Clone(in.Labels), in.Labels
		}
	}
	if in.Capacity != nil {
		checkCapacity(f, *in.Capacity)
		if *in.Capacity < cur.SitesAllocated {
			f.Add("capacity", fmt.Sprintf("must be at least %d, the sites allocated to this VPS", cur.SitesAllocated))
		}
		if *in.Capacity != cur.Capacity {
			u.Capacity, changes["capacity"] = in.Capacity, *in.Capacity
		}
	}
	if err := f.Err(); err != nil {
		return store.VPSUpdate{}, nil, false, err
	}
	return u, changes, reconnect, nil
}

// Delete removes a server from CHOM; nothing on the server is touched. A
// VPS with sites allocated is refused unless force is set.
func (s *Service) Delete(ctx context.Context, orgID, id string, force bool) error {
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		v, err := tx.VPSForUpdate(ctx, orgID, id)
		if errors.Is(err, store.ErrNotFound) {
			return errVPSNotFound
		}
		if err != nil {
			return err
		}
		if v.SitesAllocated > 0 && !force {
			return &problem.Error{
				Kind: problem.KindConflict, Code: "vps_has_sites",
				Message: fmt.Sprintf("%d sites are allocated to this VPS; move or delete them first, or delete with force=true", v.SitesAllocated),
				Fields:  map[string]string{"sites_allocated": fmt.Sprint(v.SitesAllocated)},
			}
		}
		if err := tx.DeleteVPS(ctx, orgID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "vps.delete", TargetType: TargetType, TargetID: id,
			Changes: map[string]any{"name": v.Name, "host": v.Host, "sites_allocated": v.SitesAllocated, "force": force},
		})
	})
	if err != nil {
		return fmt.Errorf("delete vps: %w", err)
	}
	return nil
}

// Host returns the means to run commands on one of the organization's
// servers, for the steps of other operations (sites, backups). The VPS
// must have a pinned host key.
func (s *Service) Host(ctx context.Context, orgID, id string) (*provision.Host, error) {
	v, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return s.host(v)
}

var errNotConnected = problem.Conflict("vps_not_connected", "the VPS has no pinned host key yet; wait for its bootstrap operation to finish")

// host opens the server's private key into a target pinned to its host key.
func (s *Service) host(v *store.VPS) (*provision.Host, error) {
	if v.HostPublicKey == "" {
		return nil, errNotConnected
	}
	key, err := s.privateKey(v)
	if err != nil {
		return nil, err
	}
	return &provision.Host{Runner: s.Executor, Target: sshx.Target{
		Host: v.Host, Port: v.Port, User: v.SSHUser, PrivateKey: key, HostKey: v.HostPublicKey,
	}}, nil
}

func (s *Service) privateKey(v *store.VPS) ([]byte, error) {
	key, err := s.Box.Open(v.SSHKeySealed, store.VPSKeyContext(v.ID))
	if err != nil {
		return nil, fmt.Errorf("open the private key of vps %s: %w", v.ID, err)
	}
	return key, nil
}

func nameTaken(name string) error {
	return &problem.Error{
		Kind: problem.KindConflict, Code: "vps_name_taken",
		Message: fmt.Sprintf("a VPS named %q already exists in this organization", name),
		Fields:  map[string]string{"name": "is already used by another VPS"},
	}
}

// hostRefusal is the 422 message for a host the policy refuses; it says
// why without echoing resolver internals.
func hostRefusal(err error) string {
	if errors.Is(err, ErrAddressNotAllowed) {
		return "is not allowed: " + strings.Replace(err.Error(), ErrAddressNotAllowed.Error()+": ", "", 1)
	}
	return "does not resolve to an address"
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// VPS statuses. Pending waits for its first operation; provisioning has an
// operation changing or checking it; unreachable failed its last health
// check for want of an answer; error needs the user (a refused host key,
// rejected credentials, a failed bootstrap).
const (
	VPSPending      = "pending"
	VPSProvisioning = "provisioning"
	VPSActive       = "active"
	VPSUnreachable  = "unreachable"
	VPSError        = "error"
)

// VPSStatuses lists every status, for validating filters.
var VPSStatuses = []string{VPSPending, VPSProvisioning, VPSActive, VPSUnreachable, VPSError}

// VPS is a managed server.
type VPS struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Name           string
	Host           string
	Port           int
	SSHUser        string `gorm:"column:ssh_user"`
	// SSHKeySealed is the private key sealed with the context VPSKeyContext(ID).
	SSHKeySealed               string `gorm:"column:ssh_key_sealed"`
	ExpectedHostKeyFingerprint string
	// HostPublicKey is the pinned key in authorized_keys format; empty
	// until the first connection.
	HostPublicKey      string
	HostKeyFingerprint string
	Labels             map[string]string `gorm:"serializer:json"`
	Capacity           int
	SitesAllocated     int
	Status             string
	OS                 string `gorm:"column:os"`
	CPUCount           int    `gorm:"column:cpu_count"`
	MemoryBytes        int64
	DiskBytes          int64
	PHPVersions        []string   `gorm:"column:php_versions;serializer:json"`
	LastHealth         *VPSHealth `gorm:"serializer:json"`
	// BootstrappedAt is set once a bootstrap has succeeded: from then on a
	// good health check may make the server active again.
	BootstrappedAt *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName keeps GORM from pluralising.
func (VPS) TableName() string { return "vps" }

// VPSKeyContext binds a sealed private key to its row.
func VPSKeyContext(id string) string { return "vps/" + id + "/ssh_key" }

// VPSFacts is what a server reports about itself.
type VPSFacts struct {
	OS          string
	CPUCount    int
	MemoryBytes int64
	DiskBytes   int64
	PHPVersions []string
}

// VPSHealth is the outcome of one health check.
type VPSHealth struct {
	CheckedAt        time.Time `json:"checked_at"`
	Reachable        bool      `json:"reachable"`
	Load1            float64   `json:"load1"`
	MemoryUsedBytes  int64     `json:"memory_used_bytes"`
	MemoryTotalBytes int64     `json:"memory_total_bytes"`
	DiskUsedBytes    int64     `json:"disk_used_bytes"`
	DiskTotalBytes   int64     `json:"disk_total_bytes"`
	NginxRunning     bool      `json:"nginx_running"`
	PHPFPMRunning    bool      `json:"php_fpm_running"`
	Error            string    `json:"error"`
}

// VPSFilter narrows a list of servers; empty fields match all.
type VPSFilter struct {
	Status string
	// Name matches one server exactly: names are unique in an organization.
	Name string
}

// VPSUpdate holds the settings to change; nil fields stay as they are.
type VPSUpdate struct {
	Name                       *string
	Port                       *int
	SSHUser                    *string
	SSHKeySealed               *string
	ExpectedHostKeyFingerprint *string
	Labels                     map[string]string // replaces all labels when not nil
	Capacity                   *int
	Status                     *string
}

// CreateVPS inserts a server; a name already used in the organization is
// ErrConflict.
func (s *Store) CreateVPS(ctx context.Context, v *VPS) error {
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if v.PHPVersions == nil {
		v.PHPVersions = []string{}
	}
	if err := translate(s.conn(ctx).Create(v).Error); err != nil {
		return fmt.Errorf("create vps: %w", err)
	}
	return nil
}

// VPS returns one server of the organization.
func (s *Store) VPS(ctx context.Context, orgID, id string) (*VPS, error) {
	return s.vps(ctx, s.conn(ctx), orgID, id)
}

// VPSForUpdate returns one server of the organization and, on PostgreSQL,
// locks its row until the transaction ends (SQLite transactions already
// hold the database's write lock).
func (s *Store) VPSForUpdate(ctx context.Context, orgID, id string) (*VPS, error) {
	q := s.conn(ctx)
	if s.dialect == Postgres {
		q = q.Clauses(forUpdate())
	}
	return s.vps(ctx, q, orgID, id)
}

func (s *Store) vps(_ context.Context, q *gorm.DB, orgID, id string) (*VPS, error) {
	var v VPS
	if err := translate(q.Where("organization_id = ? AND id = ?", orgID, id).Take(&v).Error); err != nil {
		return nil, fmt.Errorf("get vps: %w", err)
	}
	return &v, nil
}

// ListVPS returns the organization's servers by name.
func (s *Store) ListVPS(ctx context.Context, orgID string, f VPSFilter, p Page) ([]VPS, int64, error) {
	q := s.conn(ctx).Model(&VPS{}).Where("organization_id = ?", orgID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Name != "" {
		q = q.Where("name = ?", f.Name)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list vps: %w", err)
	}
	var out []VPS
	if err := q.Order("name, id").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list vps: %w", err)
	}
	return out, total, nil
}

// CountVPS counts the organization's servers, for its quota.
func (s *Store) CountVPS(ctx context.Context, orgID string) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&VPS{}).Where("organization_id = ?", orgID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count vps: %w", err)
	}
	return n, nil
}

// UpdateVPS changes a server's settings; a name already used in the
// organization is ErrConflict.
func (s *Store) UpdateVPS(ctx context.Context, orgID, id string, u VPSUpdate) error {
	values := VPS{}
	var cols []string
	set := func(col string, apply func()) {
		cols = append(cols, col)
		apply()
	}
	if u.Name != nil {
		set("name", func() { values.Name = *u.Name })
	}
	if u.Port != nil {
		set("port", func() { values.Port = *u.Port })
	}
	if u.SSHUser != nil {
		set("ssh_user", func() { values.SSHUser = *u.SSHUser })
	}
	if u.SSHKeySealed != nil {
		set("ssh_key_sealed", func() { values.SSHKeySealed = *u.SSHKeySealed })
	}
	if u.ExpectedHostKeyFingerprint != nil {
		set("expected_host_key_fingerprint", func() { values.ExpectedHostKeyFingerprint = *u.ExpectedHostKeyFingerprint })
	}
	if u.Labels != nil {
		set("labels", func() { values.Labels = u.Labels })
	}
	if u.Capacity != nil {
		set("capacity", func() { values.Capacity = *u.Capacity })
	}
	if u.Status != nil {
		set("status", func() { values.Status = *u.Status })
	}
	if err := s.updateVPS(ctx, "update vps", orgID, id, cols, values); err != nil {
		return err
	}
	return nil
}

// SetVPSStatus sets a server's status.
func (s *Store) SetVPSStatus(ctx context.Context, orgID, id, status string) error {
	return s.updateVPS(ctx, "set vps status", orgID, id, []string{"status"}, VPS{Status: status})
}

// PinVPSHostKey records the host key every later connection must present.
func (s *Store) PinVPSHostKey(ctx context.Context, orgID, id, publicKey, fingerprint string) error {
	return s.updateVPS(ctx, "pin vps host key", orgID, id, []string{"host_public_key", "host_key_fingerprint"},
		VPS{HostPublicKey: publicKey, HostKeyFingerprint: fingerprint})
}

// SetVPSFacts records what the server reported about itself.
func (s *Store) SetVPSFacts(ctx context.Context, orgID, id string, f VPSFacts) error {
	versions := f.PHPVersions
	if versions == nil {
		versions = []string{}
	}
	return s.updateVPS(ctx, "set vps facts", orgID, id,
		[]string{"os", "cpu_count", "memory_bytes", "disk_bytes", "php_versions"},
		VPS{OS: f.OS, CPUCount: f.CPUCount, MemoryBytes: f.MemoryBytes, DiskBytes: f.DiskBytes, PHPVersions: versions})
}

// MarkVPSBootstrapped makes a server active after a successful bootstrap
// or connection check.
func (s *Store) MarkVPSBootstrapped(ctx context.Context, orgID, id string, at time.Time) error {
	return s.updateVPS(ctx, "mark vps bootstrapped", orgID, id, []string{"status", "bootstrapped_at"},
		VPS{Status: VPSActive, BootstrappedAt: &at})
}

// SaveVPSHealth records a health check and sets status, unless an
// operation holds the server (pending or provisioning): the operation
// decides its status then, and a check racing it must not overwrite it.
func (s *Store) SaveVPSHealth(ctx context.Context, orgID, id string, h VPSHealth, status string) error {
	h.CheckedAt = h.CheckedAt.UTC().Truncate(time.Microsecond)
	health, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("save vps health: %w", err)
	}
	res := s.conn(ctx).Model(&VPS{}).
		Where("organization_id = ? AND id = ?", orgID, id).
		Updates(map[string]any{
			"last_health": string(health),
			"status":      gorm.Expr("CASE WHEN status IN (?, ?) THEN status ELSE ? END", VPSPending, VPSProvisioning, status),
			"updated_at":  s.db.NowFunc(),
		})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("save vps health: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("save vps health: %w", ErrNotFound)
	}
	return nil
}

// DeleteVPS removes a server.
func (s *Store) DeleteVPS(ctx context.Context, orgID, id string) error {
	res := s.conn(ctx).Where("organization_id = ? AND id = ?", orgID, id).Delete(&VPS{})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("delete vps: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete vps: %w", ErrNotFound)
	}
	return nil
}

// VPSWithFreeCapacity returns the organization's active servers that have
// room for a site, the emptiest first.
func (s *Store) VPSWithFreeCapacity(ctx context.Context, orgID string) ([]VPS, error) {
	var out []VPS
	err := s.conn(ctx).
		Where("organization_id = ? AND status = ? AND sites_allocated < capacity", orgID, VPSActive).
		Order("capacity - sites_allocated DESC, name, id").
		Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list vps with free capacity: %w", err)
	}
	return out, nil
}

// ReserveVPSSlot takes one site slot of an active server in a single
// conditional update, so concurrent reservations can never pass its
// capacity, and returns the server as the update left it. It returns nil
// when the server is full, not active, or not in the organization.
func (s *Store) ReserveVPSSlot(ctx context.Context, orgID, id string) (*VPS, error) {
	var v VPS
	res := s.conn(ctx).Model(&v).Clauses(clause.Returning{}).
		Where("id = ? AND organization_id = ? AND status = ? AND sites_allocated < capacity", id, orgID, VPSActive).
		Updates(map[string]any{"sites_allocated": gorm.Expr("sites_allocated + 1"), "updated_at": s.db.NowFunc()})
	if res.Error != nil {
		return nil, fmt.Errorf("reserve vps slot: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, nil
	}
	return &v, nil
}

// ReleaseVPSSlot gives back one site slot. It reports false when the server
// had none taken (or is not in the organization).
func (s *Store) ReleaseVPSSlot(ctx context.Context, orgID, id string) (bool, error) {
	res := s.conn(ctx).Model(&VPS{}).
		Where("id = ? AND organization_id = ? AND sites_allocated > 0", id, orgID).
		Updates(map[string]any{"sites_allocated": gorm.Expr("sites_allocated - 1"), "updated_at": s.db.NowFunc()})
	if res.Error != nil {
		return false, fmt.Errorf("release vps slot: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// VPSToCheck returns servers of every organization whose host key is
// pinned, for the periodic health check. It is the one VPS query that is
// not tenant-scoped; each row carries its organization, and everything done
// with it afterwards is scoped again.
func (s *Store) VPSToCheck(ctx context.Context, p Page) ([]VPS, error) {
	var out []VPS
	err := s.conn(ctx).Where("host_public_key <> ''").Order("organization_id, id").Limit(p.Limit).Offset(p.Offset).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list vps to check: %w", err)
	}
	return out, nil
}

// updateVPS writes cols of values to one server of the organization.
func (s *Store) updateVPS(ctx context.Context, what, orgID, id string, cols []string, values VPS) error {
	if len(cols) == 0 {
		return nil
	}
	values.UpdatedAt = s.db.NowFunc()
	res := s.conn(ctx).Model(&VPS{}).
		Where("organization_id = ? AND id = ?", orgID, id).
		Select(append(cols, "updated_at")).
		Updates(&values)
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

package store

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// NewID returns a new random identifier for any row.
func NewID() string { return uuid.NewString() }

// Organization is a tenant.
type Organization struct {
	ID         string `gorm:"primaryKey"`
	Name       string
	Require2FA bool `gorm:"column:require_2fa"`
	MaxSites   int64
	// SitesCount is the number of sites, kept by TakeSiteSlot and
	// ReleaseSiteSlot.
	SitesCount      int64
	MaxVPS          int64 `gorm:"column:max_vps"`
	MaxBackups      int64
	MaxStorageBytes int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DeletedAt       gorm.DeletedAt
}

// User is a person who can sign in; users join organizations through memberships.
type User struct {
	ID           string `gorm:"primaryKey"`
	Name         string
	Email        string
	PasswordHash string
	// TOTPSecret is sealed by the secrets box; nil until enrolment starts.
	TOTPSecret  *string `gorm:"column:totp_secret"`
	TOTPEnabled bool    `gorm:"column:totp_enabled"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   gorm.DeletedAt
}

// RecoveryCode is a one-time second factor, stored hashed.
type RecoveryCode struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	CodeHash  string
	UsedAt    *time.Time
	CreatedAt time.Time
}

// Membership ties a user (or, while pending, an invited e-mail) to an
// organization with a role.
type Membership struct {
	ID                  string `gorm:"primaryKey"`
	OrganizationID      string
	UserID              *string
	Email               string
	Role                string
	Status              string
	InvitationTokenHash *string
	InvitationExpiresAt *time.Time
	InvitedBy           *string
	CreatedAt           time.Time
	UpdatedAt           time.Time

	User *User `gorm:"foreignKey:UserID"`
}

// APIToken is a bearer token; only the SHA-256 of its plaintext is stored.
type APIToken struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	UserID         string
	Name           string
	TokenPrefix    string
	TokenHash      string
	Abilities      string
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
	RevokedAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AuditLog records one mutation.
type AuditLog struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	ActorUserID    *string
	TokenID        *string
	IP             string `gorm:"column:ip"`
	UserAgent      string
	Action         string
	TargetType     string
	TargetID       string
	Changes        string
	RunID          string
	RequestID      string
	CreatedAt      time.Time
}

// IdempotencyKey remembers the response to a POST carrying Idempotency-Key.
type IdempotencyKey struct {
	ID             string `gorm:"primaryKey"`
	Scope          string
	IdemKey        string
	Method         string
	Path           string
	RequestHash    string
	Status         string
	ResponseStatus int
	// ResponseBody is sealed: it may hold a secret shown once (a new token).
	ResponseBody string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Page selects a slice of a list; Limit is clamped by the API layer.
type Page struct {
	Limit  int
	Offset int
}

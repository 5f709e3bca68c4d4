// Package config loads the control plane's typed configuration from the
// environment (prefix CHOM_) with command-line flags taking precedence.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the control plane can be told at start-up.
type Config struct {
	ListenAddr   string
	DatabaseURL  string
	RedisURL     string
	MasterKey    string
	DataDir      string
	Env          string
	LogFormat    string
	LogLevel     string
	CORSOrigins  []string
	MaxBodyBytes int64
	// TrustedProxies lists proxies whose X-Forwarded-For is believed.
	TrustedProxies []string

	RateLimitPerMinute      int
	LoginRateLimitPerMinute int
	PasswordHashConcurrency int
	LoginTokenTTL           time.Duration
	// AuthCacheTTL is how long a replica may reuse what it read about a
	// token; changes made on another replica take effect within it.
	AuthCacheTTL time.Duration

	// AllowedNetworks restricts which addresses a VPS host may resolve to.
	// Empty means any public address; link-local and metadata ranges are
	// refused regardless.
	AllowedNetworks []netip.Prefix

	Workers          int
	HealthInterval   time.Duration
	ACMEDirectoryURL string
	ACMEEmail        string
	ACMECACertFile   string
	BackupDir        string
	S3Endpoint       string
	S3Bucket         string
	S3Region         string
	S3AccessKey      string
	S3SecretKey      string
	DefaultOrgLimits Limits
	ShutdownTimeout  time.Duration

	// JobTimeout bounds one attempt of an operation; JobRescueAfter is how
	// long an attempt may look alive before another replica takes it over
	// (its server presumed dead).
	JobTimeout     time.Duration
	JobRescueAfter time.Duration
	JobMaxAttempts int
	// ReplicaID names this server among the replicas sharing a PostgreSQL
	// database, stable across restarts, so that a restart resumes at once
	// the operations its killed predecessor was running.
	ReplicaID string
	// TestJobKinds registers operation kinds that exist only for tests of the
	// job system. Refused in production.
	TestJobKinds bool
}

// Limits are the default quotas a new organization starts with.
type Limits struct {
	Sites        int64
	VPS          int64
	Backups      int64
	StorageBytes int64
}

// Production reports whether the server runs with production defaults.
func (c Config) Production() bool { return c.Env == "production" }

// SQLitePath returns the default embedded database location.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "chom.db") }

type setting struct {
	name   string
	usage  string
	def    string
	assign func(string) error
}

// Load reads the environment and then args (without the program name).
func Load(args []string, getenv func(string) string) (Config, error) {
	var c Config
	var cors, networks, trusted string
	settings := []setting{
		{name: "listen-addr", usage: "address the API listens on", def: "127.0.0.1:8080", assign: str(&c.ListenAddr)},
		{name: "data-dir", usage: "directory for the embedded database, master key and local backups", def: "./data", assign: str(&c.DataDir)},
		{name: "database-url", usage: "sqlite:///path/to.db or postgres://... (default: SQLite in the data dir)", assign: str(&c.DatabaseURL)},
		{name: "redis-url", usage: "redis://host:port/db for shared rate limits (default: in-process limiter)", assign: str(&c.RedisURL)},
		{name: "master-key", usage: "base64 32-byte key encrypting secrets at rest (default: generated into the data dir)", assign: str(&c.MasterKey)},
		{name: "env", usage: "development or production", def: "development", assign: str(&c.Env)},
		{name: "log-format", usage: "json or text (default: json in production)", assign: str(&c.LogFormat)},
		{name: "log-level", usage: "debug, info, warn or error", def: "info", assign: str(&c.LogLevel)},
		{name: "cors-origins", usage: "comma-separated origins allowed by CORS (empty: CORS disabled)", assign: str(&cors)},
		{name: "trusted-proxies", usage: "comma-separated proxy CIDRs whose X-Forwarded-For is trusted", assign: str(&trusted)},
		{name: "max-body-bytes", usage: "largest accepted request body", def: "1048576", assign: i64(&c.MaxBodyBytes)},
		{name: "rate-limit", usage: "requests per minute per token", def: "600", assign: integer(&c.RateLimitPerMinute)},
		{name: "login-rate-limit", usage: "login attempts per minute per IP and email", def: "10", assign: integer(&c.LoginRateLimitPerMinute)},
		{name: "password-hash-concurrency", usage: "password hashes computed at once", def: "2", assign: integer(&c.PasswordHashConcurrency)},
		{name: "login-token-ttl", usage: "lifetime of tokens issued by login", def: "720h", assign: duration(&c.LoginTokenTTL)},
		{name: "auth-cache-ttl", usage: "how long a token's authentication is reused; revocations made on another replica take effect within it (0 disables)", def: "5s", assign: duration(&c.AuthCacheTTL)},
		{name: "allowed-networks", usage: "comma-separated CIDRs VPS hosts may resolve to (empty: public addresses only)", assign: str(&networks)},
		{name: "workers", usage: "concurrent operations per server", def: "8", assign: integer(&c.Workers)},
		{name: "job-timeout", usage: "longest one attempt of an operation may run", def: "30m", assign: duration(&c.JobTimeout)},
		{name: "job-rescue-after", usage: "how long a running operation may go without finishing before another server retries it (must exceed job-timeout)", def: "35m", assign: duration(&c.JobRescueAfter)},
		{name: "job-max-attempts", usage: "attempts an operation gets before it fails", def: "5", assign: integer(&c.JobMaxAttempts)},
		{name: "replica-id", usage: "this server's name among replicas sharing PostgreSQL, the same across its restarts and unique among running servers: a restart then resumes at once the operations it was running when killed (empty: they wait for job-rescue-after)", assign: str(&c.ReplicaID)},
		{name: "test-job-kinds", usage: "register operation kinds used only by the job system's tests (never in production)", def: "false", assign: boolean(&c.TestJobKinds)},
		{name: "health-interval", usage: "how often VPS health is checked (0 disables)", def: "5m", assign: duration(&c.HealthInterval)},
		{name: "acme-directory-url", usage: "ACME directory", def: "https://acme-v02.api.letsencrypt.org/directory", assign: str(&c.ACMEDirectoryURL)},
		{name: "acme-email", usage: "contact e-mail for the ACME account", assign: str(&c.ACMEEmail)},
		{name: "acme-ca-cert-file", usage: "extra CA bundle trusted when talking to the ACME server", assign: str(&c.ACMECACertFile)},
		{name: "backup-dir", usage: "local backup storage (default: <data-dir>/backups)", assign: str(&c.BackupDir)},
		{name: "s3-endpoint", usage: "S3-compatible endpoint for backups (enables S3 storage)", assign: str(&c.S3Endpoint)},
		{name: "s3-bucket", usage: "bucket for backups", assign: str(&c.S3Bucket)},
		{name: "s3-region", usage: "region of the bucket", def: "us-east-1", assign: str(&c.S3Region)},
		{name: "s3-access-key", usage: "S3 access key", assign: str(&c.S3AccessKey)},
		{name: "s3-secret-key", usage: "S3 secret key", assign: str(&c.S3SecretKey)},
		{name: "default-max-sites", usage: "sites a new organization may have", def: "100", assign: i64(&c.DefaultOrgLimits.Sites)},
		{name: "default-max-vps", usage: "VPS a new organization may have", def: "20", assign: i64(&c.DefaultOrgLimits.VPS)},
		{name: "default-max-backups", usage: "backups a new organization may keep", def: "1000", assign: i64(&c.DefaultOrgLimits.Backups)},
		{name: "default-max-storage-bytes", usage: "backup bytes a new organization may keep", def: "107374182400", assign: i64(&c.DefaultOrgLimits.StorageBytes)},
		{name: "shutdown-timeout", usage: "grace period for in-flight requests on shutdown", def: "20s", assign: duration(&c.ShutdownTimeout)},
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	values := make(map[string]*string, len(settings))
	for i := range settings {
		s := &settings[i]
		values[s.name] = fs.String(s.name, "", s.usage+" (env "+EnvName(s.name)+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("parse flags: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var errs []error
	for _, s := range settings {
		v := s.def
		if env := getenv(EnvName(s.name)); env != "" {
			v = env
		}
		if set[s.name] {
			v = *values[s.name]
		}
		if err := s.assign(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		}
	}
	c.CORSOrigins = splitList(cors)
	c.TrustedProxies = splitList(trusted)
	for _, n := range splitList(networks) {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowed-networks: %w", err))
			continue
		}
		c.AllowedNetworks = append(c.AllowedNetworks, p.Masked())
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json"
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + c.SQLitePath()
	}
	if c.BackupDir == "" {
		c.BackupDir = filepath.Join(c.DataDir, "backups")
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	switch c.Env {
	case "development", "production", "test":
	default:
		errs = append(errs, fmt.Errorf("env: want development, production or test, got %q", c.Env))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log-format: want json or text, got %q", c.LogFormat))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max-body-bytes: must be positive"))
	}
	if c.RateLimitPerMinute <= 0 || c.LoginRateLimitPerMinute <= 0 {
		errs = append(errs, errors.New("rate-limit: must be positive"))
	}
	if c.PasswordHashConcurrency <= 0 {
		errs = append(errs, errors.New("password-hash-concurrency: must be positive"))
	}
	if c.Workers <= 0 {
		errs = append(errs, errors.New("workers: must be positive"))
	}
	if c.JobTimeout <= 0 {
		errs = append(errs, errors.New("job-timeout: must be positive"))
	}
	if c.JobRescueAfter <= c.JobTimeout {
		errs = append(errs, errors.New("job-rescue-after: must be longer than job-timeout, or running operations would be taken over"))
	}
	if c.JobMaxAttempts <= 0 {
		errs = append(errs, errors.New("job-max-attempts: must be positive"))
	}
	if c.TestJobKinds && c.Production() {
		errs = append(errs, errors.New("test-job-kinds: not allowed in production"))
	}
	return errors.Join(errs...)
}

// EnvName maps a flag name to its environment variable: listen-addr → CHOM_LISTEN_ADDR.
func EnvName(flagName string) string {
	return "CHOM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// FromEnvironment loads configuration from the process environment and args.
func FromEnvironment(args []string) (Config, error) { return Load(args, os.Getenv) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func str(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

func integer(dst *int) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*dst = n
		return nil
	}
}

func i64(dst *int64) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*dst = n
		return nil
	}
}

func boolean(dst *bool) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", v)
		}
		*dst = b
		return nil
	}
}

func duration(dst *time.Duration) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration: %q", v)
		}
		*dst = d
		return nil
	}
}

// Package app wires the control plane together: configuration → store →
// services → HTTP server and workers, and the command-line subcommands.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chomhq/chom/server/internal/api"
	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/backup"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/jobs/jobtest"
	"github.com/chomhq/chom/server/internal/ratelimit"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/site"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/team"
	"github.com/chomhq/chom/server/internal/vps"
)

const usage = `usage: chom-server <command> [flags]

commands:
  serve                          run the API and the operation workers
  migrate up|down [--all]|status apply, roll back or list schema migrations
  admin create-owner             create a user owning a new organization, print a token

Every flag can also be set from the environment: --listen-addr is CHOM_LISTEN_ADDR.
Run "chom-server serve -h" for the flags.`

var errUsage = errors.New(strings.TrimSpace(strings.SplitN(usage, "\n", 2)[0]) + " (run 'chom-server help')")

// Main runs one subcommand.
func Main(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		cfg, err := config.FromEnvironment(args[1:])
		if err != nil {
			return err
		}
		return Serve(ctx, cfg, nil)
	case "migrate":
		return migrate(ctx, args[1:], stdout)
	case "admin":
		return admin(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// NewLogger builds the process logger from configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Server is a running control plane, as tests and Serve use it.
type Server struct {
	Config  config.Config
	Store   *store.Store
	Box     *secrets.Box
	Handler http.Handler
	Log     *slog.Logger
	// Jobs enqueues and runs operations. Build leaves its workers stopped:
	// Serve starts them, and so may a test; Close stops them.
	Jobs *jobs.Queue
	// VPS manages servers and allocates their capacity to sites.
	VPS *vps.Service
	// Sites manages websites on the servers.
	Sites *site.Service
	// Backups takes, stores and restores backups of sites.
	Backups *backup.Service

	closers []func() error
}

// Build opens the store, applies migrations and assembles the services.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = NewLogger(cfg, os.Stderr)
	}
	key, err := secrets.LoadMasterKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, Store: st, Box: box, Log: log, closers: []func() error{st.Close}}
	if _, err := st.MigrateUp(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	// One SSH executor for the process, closed after the workers stop.
	// Every dial goes through the network policy, so a DNS answer that
	// changes after a server was registered cannot redirect it.
	network := vps.NewNetworkPolicy(cfg.AllowedNetworks)
	ssh := sshx.New(sshx.Options{Logger: log.With(slog.String("component", "ssh")), Dial: network.Dial})
	s.closers = append(s.closers, ssh.Close)
	s.Jobs, err = jobs.New(st, jobs.Config{
		Workers: cfg.Workers, MaxAttempts: cfg.JobMaxAttempts,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter, ReplicaID: cfg.ReplicaID,
	}, log)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.closers = append(s.closers, s.stopJobs)
	if cfg.TestJobKinds {
		jobtest.Register(s.Jobs)
	}
	s.VPS = vps.New(vps.Deps{Store: st, Box: box, Executor: ssh, Jobs: s.Jobs, Network: network, Log: log})
	for _, h := range s.VPS.Handlers() {
		s.Jobs.Register(h)
	}
	if cfg.HealthInterval > 0 {
		s.Jobs.AddPeriodic("vps.health", cfg.HealthInterval, s.VPS.CheckAll)
	}
	if err := s.buildSites(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := s.buildBackups(ctx, reg); err != nil {
		_ = s.Close()
		return nil, err
	}

	var limiter middleware.Limiter = ratelimit.NewMemory()
	if cfg.RedisURL != "" {
		client, err := ratelimit.NewRedisClient(cfg.RedisURL, log)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("redis url: %w", err)
		}
		s.closers = append(s.closers, client.Close)
		limiter = ratelimit.NewRedis(client, reg, log)
	}

	hasher := auth.NewHasher(cfg.PasswordHashConcurrency)
	ident := identity.New(st, hasher, box, cfg.DefaultOrgLimits, cfg.LoginTokenTTL, log)
	ident.CacheCredentials(cfg.AuthCacheTTL)
	s.Handler = api.New(api.Deps{
		Config: cfg, Store: st, Box: box, Identity: ident, Team: team.New(st, ident), Jobs: s.Jobs, VPS: s.VPS,
		Sites: s.Sites, Backups: s.Backups, Usage: newUsage(st), Limiter: limiter, Registry: reg, Log: log,
	})
	return s, nil
}

// stopJobs stops the workers if they run, giving running steps the
// shutdown grace period.
func (s *Server) stopJobs() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	return s.Jobs.Stop(ctx)
}

// Close releases everything Build opened.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// Serve runs the control plane until ctx ends, then shuts down gracefully.
// When ready is not nil it receives the listening address.
func Serve(ctx context.Context, cfg config.Config, ready chan<- string) error {
	log := NewLogger(cfg, os.Stderr)
	s, err := Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	if err := s.Jobs.Start(ctx); err != nil {
		return err
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info("control plane listening", slog.String("addr", ln.Addr().String()),
		slog.String("database", string(s.Store.Dialect())), slog.Bool("redis", cfg.RedisURL != ""))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Requests first, so none enqueues work after the workers stop; then
	// the workers, which put unfinished operations back in the queue.
	httpErr := srv.Shutdown(shutdownCtx)
	if err := s.Jobs.Stop(shutdownCtx); err != nil {
		log.Error("stop workers", slog.Any("error", err))
	}
	if httpErr != nil {
		return fmt.Errorf("shutdown: %w", httpErr)
	}
	return nil
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: chom-server migrate up|down [--all]|status")
	}
	all := false
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "--all" {
		all, rest = true, rest[1:]
	}
	cfg, err := config.FromEnvironment(rest)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, NewLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	switch args[0] {
	case "up":
		n, err := st.MigrateUp(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return err
	case "down":
		n, err := st.MigrateDown(ctx, all)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "rolled back %d migration(s)\n", n)
		return err
	case "status":
		rows, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			state := "pending"
			if r.Applied {
				state = "applied"
			}
			if _, err := fmt.Fprintf(stdout, "%05d  %-8s %s\n", r.Version, state, r.Name); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown migrate command %q", args[0])
}

func admin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-owner" {
		return errors.New("usage: chom-server admin create-owner --email E --name N --organization O [--password-file F]")
	}
	var email, name, org, passwordFile string
	var rest []string
	for i := 1; i < len(args); i++ {
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !hasValue && i+1 < len(args) && strings.HasPrefix(args[i], "-") {
			value = args[i+1]
		}
		switch flagName {
		case "email":
			email = value
		case "name":
			name = value
		case "organization":
			org = value
		case "password-file":
			passwordFile = value
		default:
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			i++
		}
	}
	cfg, err := config.FromEnvironment(rest)
	if err != nil {
		return err
	}
	password := auth.NewSecret("")
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return fmt.Errorf("read password file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	s, err := Build(ctx, cfg, NewLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer func() { _ = s.Close() }()
	ident := identity.New(s.Store, auth.NewHasher(1), s.Box, cfg.DefaultOrgLimits, 0, s.Log)
	sess, err := ident.Register(ctx, identity.RegisterInput{Name: name, Email: email, Password: password, OrganizationName: org})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "organization_id=%s\nuser_id=%s\ntoken=%s\n", sess.Organization.ID, sess.User.ID, sess.Plaintext)
	if err == nil && passwordFile == "" {
		_, err = fmt.Fprintf(stdout, "password=%s\n", password)
	}
	return err
}

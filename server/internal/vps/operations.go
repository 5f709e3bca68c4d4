package vps

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
)

// Handlers returns the operation handlers to register with the job queue.
func (s *Service) Handlers() []jobs.Handler {
	return []jobs.Handler{bootstrapHandler{s}, connectHandler{s}}
}

// bootstrapHandler runs vps.bootstrap: connect and pin the host key, check
// the server can be managed, install and configure what sites need, then
// record facts and health. Every step is safe to run again.
type bootstrapHandler struct{ s *Service }

func (bootstrapHandler) Kind() string { return KindBootstrap }

func (h bootstrapHandler) Steps(context.Context, *store.Operation) ([]jobs.Step, error) {
	steps := []jobs.Step{
		{Name: "connect and pin the host key", Run: h.s.connectStep},
		{Name: "inspect the server", Run: h.s.factsStep},
	}
	for _, ps := range provision.Bootstrap() {
		steps = append(steps, h.s.remoteStep(ps))
	}
	// Facts again: the PHP versions the bootstrap may have installed.
	return append(steps,
		jobs.Step{Name: "record facts", Run: h.s.factsStep},
		jobs.Step{Name: "check health", Run: h.s.healthStep},
	), nil
}

func (h bootstrapHandler) OnSuccess(ctx context.Context, op *store.Operation) error {
	return ignoreDeleted(h.s.Store.MarkVPSBootstrapped(ctx, op.OrganizationID, op.TargetID, h.s.now()))
}

func (h bootstrapHandler) OnFailure(ctx context.Context, op *store.Operation, _ error) error {
	return ignoreDeleted(h.s.Store.SetVPSStatus(ctx, op.OrganizationID, op.TargetID, store.VPSError))
}

// connectHandler runs vps.connect after the connection settings of a
// bootstrapped VPS changed: connect (pinning a new host key when the
// expected fingerprint asks for one), then record facts and health.
type connectHandler struct{ s *Service }

func (connectHandler) Kind() string { return KindConnect }

func (h connectHandler) Steps(context.Context, *store.Operation) ([]jobs.Step, error) {
	return []jobs.Step{
		{Name: "connect and pin the host key", Run: h.s.connectStep},
		{Name: "record facts", Run: h.s.factsStep},
		{Name: "check health", Run: h.s.healthStep},
	}, nil
}

func (h connectHandler) OnSuccess(ctx context.Context, op *store.Operation) error {
	return ignoreDeleted(h.s.Store.SetVPSStatus(ctx, op.OrganizationID, op.TargetID, store.VPSActive))
}

func (h connectHandler) OnFailure(ctx context.Context, op *store.Operation, _ error) error {
	return ignoreDeleted(h.s.Store.SetVPSStatus(ctx, op.OrganizationID, op.TargetID, store.VPSError))
}

var errDeleted = jobs.Permanent(errors.New("the VPS was deleted"))

// load returns the operation's VPS; a deleted one ends the operation.
func (s *Service) load(ctx context.Context, op *store.Operation) (*store.VPS, error) {
	v, err := s.Store.VPS(ctx, op.OrganizationID, op.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errDeleted
	}
	return v, err
}

// connectStep marks the VPS provisioning and proves that it can be logged
// in to. A server without a pinned key, or whose pin differs from the
// expected fingerprint, is scanned and its key pinned; otherwise a command
// runs against the pinned key, which must not have changed.
func (s *Service) connectStep(ctx context.Context, r *jobs.Run) error {
	v, err := s.load(ctx, r.Op)
	if err != nil {
		return err
	}
	if v.Status != store.VPSProvisioning {
		if err := s.Store.SetVPSStatus(ctx, v.OrganizationID, v.ID, store.VPSProvisioning); err != nil {
			return err
		}
	}
	key, err := s.privateKey(v)
	if err != nil {
		return jobs.Permanent(err)
	}
	r.Secret(string(key))
	want := v.ExpectedHostKeyFingerprint
	if v.HostPublicKey != "" && (want == "" || want == v.HostKeyFingerprint) {
		h, err := s.host(v)
		if err != nil {
			return err
		}
		if _, err := h.Run(ctx, sshx.Command{Args: []string{"true"}}); err != nil {
			return connectError(err, "")
		}
		r.Logf("logged in as %s; the host key is the pinned %s", v.SSHUser, v.HostKeyFingerprint)
		return nil
	}
	hk, err := s.Executor.Scan(ctx, v.Host, v.Port, v.SSHUser, key, want)
	if err != nil {
		return connectError(err, want)
	}
	if err := s.Store.PinVPSHostKey(ctx, v.OrganizationID, v.ID, hk.Key, hk.Fingerprint); err != nil {
		return err
	}
	if want == "" {
		r.Logf("logged in as %s; pinned the host key %s (no fingerprint was expected: first use is trusted)", v.SSHUser, hk.Fingerprint)
	} else {
		r.Logf("logged in as %s; pinned the host key %s, the expected fingerprint", v.SSHUser, hk.Fingerprint)
	}
	return nil
}

// connectError explains a failed connection and marks the failures that
// no retry can fix as permanent.
func connectError(err error, expected string) error {
	err = explain(err, expected)
	if needsUser(err) {
		return jobs.Permanent(err)
	}
	return err
}

// explain says what the user can do about a refused host key or refused
// credentials; other errors pass unchanged.
func explain(err error, expected string) error {
	switch {
	case errors.Is(err, sshx.ErrHostKeyMismatch) && expected != "":
		return fmt.Errorf("the server's host key does not have the expected fingerprint %s: %w", expected, err)
	case errors.Is(err, sshx.ErrHostKeyMismatch):
		return fmt.Errorf("the host key changed since it was pinned (if the server was reinstalled, set expected_host_key_fingerprint to its new fingerprint): %w", err)
	case errors.Is(err, sshx.ErrAuth):
		return fmt.Errorf("the server refused the SSH user or private key: %w", err)
	}
	return err
}

// factsStep records what the server is and refuses one CHOM cannot manage.
func (s *Service) factsStep(ctx context.Context, r *jobs.Run) error {
	v, h, err := s.opHost(ctx, r)
	if err != nil {
		return err
	}
	f, err := provision.GatherFacts(ctx, h)
	var exit *sshx.ExitError
	if errors.As(err, &exit) {
		// The script reads files and never fails by itself: the command
		// could not run, typically sudo asking for a password.
		return jobs.Permanent(fmt.Errorf("inspect the server as %s (root, or a user with password-less sudo, is needed): %w", v.SSHUser, err))
	}
	if err != nil {
		return connectError(err, "")
	}
	if err := f.Supported(); err != nil {
		return jobs.Permanent(err)
	}
	if err := s.Store.SetVPSFacts(ctx, v.OrganizationID, v.ID, store.VPSFacts{
		OS: f.OS, CPUCount: f.CPUCount, MemoryBytes: f.MemoryBytes, DiskBytes: f.DiskBytes, PHPVersions: f.PHPVersions,
	}); err != nil {
		return err
	}
	r.Logf("%s, %d CPUs, %d MiB memory, %d GiB disk, PHP %v", f.OS, f.CPUCount, f.MemoryBytes>>20, f.DiskBytes>>30, f.PHPVersions)
	return nil
}

// remoteStep runs one provisioning step, which changes the server only
// when it is not as wanted already.
func (s *Service) remoteStep(ps provision.Step) jobs.Step {
	return jobs.Step{Name: ps.Name, Run: func(ctx context.Context, r *jobs.Run) error {
		_, h, err := s.opHost(ctx, r)
		if err != nil {
			return err
		}
		changed, err := ps.Ensure(ctx, h)
		if err != nil {
			return connectError(err, "")
		}
		if changed {
			r.Logf("%s: done", ps.Name)
		} else {
			r.Logf("%s: already in place, nothing changed", ps.Name)
		}
		return nil
	}}
}

// healthStep records a first health check; an unreachable server fails
// the attempt so that it is retried.
func (s *Service) healthStep(ctx context.Context, r *jobs.Run) error {
	v, err := s.load(ctx, r.Op)
	if err != nil {
		return err
	}
	checkErr, err := s.check(ctx, v)
	if err != nil {
		return err
	}
	if checkErr != nil {
		return connectError(checkErr, "")
	}
	if v, err = s.load(ctx, r.Op); err != nil {
		return err
	}
	hl := v.LastHealth
	if hl == nil {
		return errors.New("no health recorded")
	}
	r.Logf("load %.2f, memory %d/%d MiB, disk %d/%d GiB, nginx running: %v, PHP-FPM running: %v",
		hl.Load1, hl.MemoryUsedBytes>>20, hl.MemoryTotalBytes>>20, hl.DiskUsedBytes>>30, hl.DiskTotalBytes>>30,
		hl.NginxRunning, hl.PHPFPMRunning)
	return nil
}

// opHost loads the operation's VPS and the means to run commands on it.
func (s *Service) opHost(ctx context.Context, r *jobs.Run) (*store.VPS, *provision.Host, error) {
	v, err := s.load(ctx, r.Op)
	if err != nil {
		return nil, nil, err
	}
	h, err := s.host(v)
	if err != nil {
		return nil, nil, jobs.Permanent(err)
	}
	r.Secret(string(h.Target.PrivateKey))
	return v, h, nil
}

func ignoreDeleted(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

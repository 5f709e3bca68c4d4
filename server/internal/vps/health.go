package vps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
)

// CheckHealth checks one server now, records the result and returns the
// VPS as it is afterwards. It takes at most the health timeout.
func (s *Service) CheckHealth(ctx context.Context, orgID, id string) (*store.VPS, error) {
	v, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if v.HostPublicKey == "" {
		return nil, errNotConnected
	}
	if _, err := s.check(ctx, v); err != nil {
		return nil, fmt.Errorf("check vps health: %w", err)
	}
	return s.Get(context.WithoutCancel(ctx), orgID, id)
}

// checkConcurrency bounds the servers the periodic check talks to at once.
const (
	checkConcurrency = 8
	checkBatch       = 200
)

// CheckAll checks every server with a pinned host key, except those an
// operation is working on. It is the periodic health check; an error means
// the database failed, never that a server did.
func (s *Service) CheckAll(ctx context.Context) error {
	sem := make(chan struct{}, checkConcurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for offset := 0; ; offset += checkBatch {
		batch, err := s.Store.VPSToCheck(ctx, store.Page{Limit: checkBatch, Offset: offset})
		if err != nil {
			errs = append(errs, err)
			break
		}
		for i := range batch {
			v := &batch[i]
			if v.Status == store.VPSPending || v.Status == store.VPSProvisioning {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return ctx.Err()
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if _, err := s.check(ctx, v); err != nil && !errors.Is(err, store.ErrNotFound) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		if len(batch) < checkBatch {
			break
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// check runs the health script on v and records what it found, which
// includes checkErr, the reason the check failed. A server that does not
// answer is a finding; err is for failing to record it.
func (s *Service) check(ctx context.Context, v *store.VPS) (checkErr, err error) {
	h, err := s.host(v)
	if err != nil {
		return nil, err
	}
	checkCtx, cancel := context.WithTimeout(ctx, s.HealthTimeout)
	defer cancel()
	found, checkErr := provision.CheckHealth(checkCtx, h)
	cancel()
	health := store.VPSHealth{
		CheckedAt:        s.now(),
		Reachable:        checkErr == nil,
		Load1:            found.Load1,
		MemoryUsedBytes:  found.MemoryUsedBytes,
		MemoryTotalBytes: found.MemoryTotalBytes,
		DiskUsedBytes:    found.DiskUsedBytes,
		DiskTotalBytes:   found.DiskTotalBytes,
		NginxRunning:     found.NginxRunning,
		PHPFPMRunning:    found.PHPFPMRunning,
	}
	if checkErr != nil {
		if errors.Is(checkErr, context.DeadlineExceeded) && ctx.Err() == nil {
			checkErr = fmt.Errorf("%w: no answer within %s", sshx.ErrUnreachable, s.HealthTimeout)
		}
		checkErr = explain(checkErr, "")
		health.Reachable = answered(checkErr)
		health.Error = checkErr.Error()
	}
	status := healthStatus(v.Status, v.BootstrappedAt != nil, checkErr)
	// Recorded even when the caller has gone: the check has been made.
	if err := s.Store.SaveVPSHealth(context.WithoutCancel(ctx), v.OrganizationID, v.ID, health, status); err != nil {
		return checkErr, err
	}
	if status != v.Status {
		s.Log.InfoContext(ctx, "vps status changed by a health check",
			slog.String("organization_id", v.OrganizationID), slog.String("vps_id", v.ID),
			slog.String("from", v.Status), slog.String("to", status), slog.String("error", health.Error))
	}
	return checkErr, nil
}

// answered reports whether the check reached the server: its script ran,
// even if it then failed. Anything else, including a handshake that failed
// in a way the executor does not classify, counts as no answer.
func answered(err error) bool {
	var exit *sshx.ExitError
	return err == nil || errors.As(err, &exit) || errors.Is(err, provision.ErrUnexpectedOutput)
}

// healthStatus is the status a health check outcome leads to. Operations
// own pending and provisioning servers; a server never bootstrapped does
// not become active from a health check.
func healthStatus(current string, bootstrapped bool, err error) string {
	switch {
	case current == store.VPSPending || current == store.VPSProvisioning:
		return current
	case needsUser(err):
		return store.VPSError
	case !bootstrapped:
		return current
	case answered(err):
		return store.VPSActive
	}
	return store.VPSUnreachable
}

// needsUser reports failures no retry can fix: a changed host key, refused
// credentials, an address the policy forbids.
func needsUser(err error) bool {
	return errors.Is(err, sshx.ErrHostKeyMismatch) || errors.Is(err, sshx.ErrAuth) || errors.Is(err, ErrAddressNotAllowed)
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/testhost"
)

// sshFigures are latencies of one trivial command on a test host.
type sshFigures struct {
	Host          string
	Pooled, Fresh latencies
}

const (
	pooledRuns = 200
	freshRuns  = 30
)

// benchSSH runs `true` on the first test host through one pooled executor,
// and through a new executor each time (TCP connect, key exchange and
// authentication for every command, as a client without pooling pays).
func benchSSH(ctx context.Context) (*sshFigures, error) {
	hosts, err := testhost.Running()
	if err != nil {
		return nil, err
	}
	h := hosts[0]
	target := sshx.Target{Host: h.Address, Port: h.SSHPort, User: h.User, PrivateKey: h.PrivateKey, HostKey: h.HostPublicKey}
	cmd := sshx.Command{Args: []string{"true"}}
	progress("ssh: %d pooled and %d fresh runs of `true` on %s", pooledRuns, freshRuns, h.Name)
	pooled := sshx.New(sshx.Options{})
	defer func() { _ = pooled.Close() }()
	if _, err := pooled.Run(ctx, target, cmd); err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", h.Name, err)
	}
	var p, f []time.Duration
	for range pooledRuns {
		start := time.Now()
		if _, err := pooled.Run(ctx, target, cmd); err != nil {
			return nil, err
		}
		p = append(p, time.Since(start))
	}
	for range freshRuns {
		start := time.Now()
		e := sshx.New(sshx.Options{})
		_, err := e.Run(ctx, target, cmd)
		_ = e.Close()
		if err != nil {
			return nil, err
		}
		f = append(f, time.Since(start))
	}
	return &sshFigures{Host: h.Name, Pooled: sorted(p), Fresh: sorted(f)}, nil
}

func (t *table) ssh(f *sshFigures, err error) {
	if err != nil {
		t.failed("SSH command", err)
		return
	}
	ratio := float64(f.Fresh.percentile(50)) / float64(f.Pooled.percentile(50))
	t.add(row{
		Measure: fmt.Sprintf("SSH `true` p50 on %s: pooled (%d runs) vs fresh connection (%d runs)", f.Host, pooledRuns, freshRuns),
		CHOM:    ms(f.Pooled.percentile(50)), Baseline: ms(f.Fresh.percentile(50)),
		Ratio: fmt.Sprintf("%.1f× faster", ratio), Target: "≥ 8×", Result: verdict(ratio >= 8),
	})
}

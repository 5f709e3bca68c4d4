package provision

import (
	"context"
	"errors"
	"fmt"
)

// Health is a server's vital signs at one moment.
type Health struct {
	Load1            float64
	MemoryUsedBytes  int64
	MemoryTotalBytes int64
	DiskUsedBytes    int64
	DiskTotalBytes   int64
	NginxRunning     bool
	PHPFPMRunning    bool
}

// CheckHealth reads the server's vital signs without changing anything.
func CheckHealth(ctx context.Context, h *Host) (Health, error) {
	res, err := h.RunScript(ctx, "health", nil)
	if err != nil {
		return Health{}, fmt.Errorf("check health: %w", err)
	}
	hl, err := ParseHealth(res.Stdout)
	if err != nil {
		return Health{}, fmt.Errorf("check health: %w", err)
	}
	return hl, nil
}

// ParseHealth reads the output of the health script.
func ParseHealth(out string) (Health, error) {
	kv := parseKeyValues(out)
	var errs []error
	h := Health{
		Load1:            kv.float("load1", &errs),
		MemoryTotalBytes: kv.integer("memory_total_kb", &errs) * 1024,
		DiskTotalBytes:   kv.integer("disk_total_bytes", &errs),
		DiskUsedBytes:    kv.integer("disk_used_bytes", &errs),
		NginxRunning:     kv.last("nginx") == "running",
		PHPFPMRunning:    kv.last("php_fpm") == "running",
	}
	available := kv.integer("memory_available_kb", &errs) * 1024
	h.MemoryUsedBytes = max(h.MemoryTotalBytes-available, 0)
	if err := errors.Join(errs...); err != nil {
		return Health{}, fmt.Errorf("%w from the health script: %w", ErrUnexpectedOutput, err)
	}
	return h, nil
}

package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Facts is what a server reports about itself.
type Facts struct {
	OS          string // PRETTY_NAME of os-release, e.g. "Debian GNU/Linux 12 (bookworm)"
	OSID        string
	OSLike      []string
	CPUCount    int
	MemoryBytes int64
	DiskBytes   int64 // size of the root filesystem
	PHPVersions []string
	HasAPT      bool
	// Root reports that commands run as root (directly or through sudo).
	Root bool
}

// GatherFacts reads the server's facts without changing anything.
func GatherFacts(ctx context.Context, h *Host) (Facts, error) {
	res, err := h.RunScript(ctx, "facts", nil)
	if err != nil {
		return Facts{}, fmt.Errorf("gather facts: %w", err)
	}
	f, err := ParseFacts(res.Stdout)
	if err != nil {
		return Facts{}, fmt.Errorf("gather facts: %w", err)
	}
	return f, nil
}

// ParseFacts reads the output of the facts script.
func ParseFacts(out string) (Facts, error) {
	kv := parseKeyValues(out)
	f := Facts{
		OS:     kv.last("os"),
		OSID:   kv.last("os_id"),
		OSLike: strings.Fields(kv.last("os_like")),
		HasAPT: kv.last("apt") == "yes",
		Root:   kv.last("uid") == "0",
	}
	var errs []error
	f.CPUCount = int(kv.integer("cpus", &errs))
	f.MemoryBytes = kv.integer("memory_kb", &errs) * 1024
	f.DiskBytes = kv.integer("disk_bytes", &errs)
	for _, v := range kv["php"] {
		if validPHPVersion(v) && !slices.Contains(f.PHPVersions, v) {
			f.PHPVersions = append(f.PHPVersions, v)
		}
	}
	slices.SortFunc(f.PHPVersions, comparePHPVersions)
	if f.PHPVersions == nil {
		f.PHPVersions = []string{}
	}
	if f.OS == "" {
		errs = append(errs, errors.New("no os"))
	}
	if f.CPUCount <= 0 && !hasKeyError(errs, "cpus") {
		errs = append(errs, errors.New("cpus: not positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return Facts{}, fmt.Errorf("%w from the facts script: %w", ErrUnexpectedOutput, err)
	}
	return f, nil
}

// Supported explains why CHOM cannot manage the server, or returns nil.
func (f Facts) Supported() error {
	switch {
	case !f.HasAPT:
		return fmt.Errorf("unsupported operating system %q: CHOM manages Debian and Ubuntu servers (apt-get and dpkg-query are missing)", f.OS)
	case !f.Root:
		return errors.New("commands do not run as root: log in as root or as a user allowed to run sudo without a password")
	}
	return nil
}

// validPHPVersion accepts "8.2" style versions, the suffix of
// /usr/sbin/php-fpm8.2.
func validPHPVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	return ok && isDigits(major) && isDigits(minor)
}

func comparePHPVersions(a, b string) int {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	x, _ := strconv.Atoi(am)
	y, _ := strconv.Atoi(bm)
	if x != y {
		return x - y
	}
	x, _ = strconv.Atoi(an)
	y, _ = strconv.Atoi(bn)
	return x - y
}

func isDigits(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// keyValues holds key=value output lines; a key may repeat.
type keyValues map[string][]string

func parseKeyValues(out string) keyValues {
	kv := keyValues{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "=")
		if !ok || k == "" {
			continue
		}
		kv[k] = append(kv[k], strings.TrimSpace(v))
	}
	return kv
}

func (kv keyValues) last(k string) string {
	if vs := kv[k]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

// integer reads a non-negative integer, recording a keyed error when the
// value is missing or malformed.
func (kv keyValues) integer(k string, errs *[]error) int64 {
	v := kv.last(k)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		*errs = append(*errs, &keyError{key: k, value: v})
		return 0
	}
	return n
}

func (kv keyValues) float(k string, errs *[]error) float64 {
	v := kv.last(k)
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 {
		*errs = append(*errs, &keyError{key: k, value: v})
		return 0
	}
	return n
}

type keyError struct{ key, value string }

func (e *keyError) Error() string {
	if e.value == "" {
		return e.key + ": missing"
	}
	return fmt.Sprintf("%s: not a number: %q", e.key, e.value)
}

func hasKeyError(errs []error, key string) bool {
	for _, err := range errs {
		var ke *keyError
		if errors.As(err, &ke) && ke.key == key {
			return true
		}
	}
	return false
}

package jobs

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

// Step is one idempotent unit of an operation: running it again after a
// crash or a failure must be safe, because a step that was cut short runs
// again from its start.
type Step struct {
	Name string
	Run  func(ctx context.Context, r *Run) error
}

// Handler does the work of one operation kind.
type Handler interface {
	// Kind names the operations it runs, such as "vps.bootstrap".
	Kind() string
	// Steps returns the steps of op in order. It must return the same list
	// for the same operation every time, since progress is an index into it.
	Steps(ctx context.Context, op *store.Operation) ([]Step, error)
	// OnSuccess runs after the last step, before the operation is marked
	// succeeded; an error counts as a failed attempt.
	OnSuccess(ctx context.Context, op *store.Operation) error
	// OnFailure runs once when the operation has failed for good (attempts
	// used up or a permanent error), before it is marked failed: for example
	// to put its target in an error state.
	OnFailure(ctx context.Context, op *store.Operation, err error) error
}

// Run is what a step sees of its operation.
type Run struct {
	// Op is the operation; read it, do not change it.
	Op *store.Operation
	// Logf appends a line to the operation's log, which clients read.
	// Values registered with Secret are masked.
	Logf func(format string, args ...any)

	q       *Queue
	mu      sync.Mutex // guards Op, log and secrets
	saveMu  sync.Mutex // orders writes of the row
	log     string
	secrets []string
	flushed time.Time
}

const (
	// maxLogBytes caps the operation log; the oldest lines go first.
	maxLogBytes = 64 << 10
	// maxErrorBytes caps the error kept on the operation.
	maxErrorBytes = 4 << 10
	// logFlushInterval bounds how much of the log a crash can lose.
	logFlushInterval = time.Second
	redactedMark     = "[REDACTED]"
	droppedMark      = "[earlier lines dropped]\n"
)

// privateKeyBlock matches PEM private keys, masked even when a step forgot
// to register them as secrets.
var privateKeyBlock = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)

func newRun(q *Queue, op *store.Operation) *Run {
	r := &Run{Op: op, q: q, log: op.Log, flushed: time.Now()}
	r.Logf = r.logf
	return r
}

// Secret registers values that must never appear in the log or the error.
func (r *Run) Secret(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if v != "" {
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret containing another is hidden whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	r.secrets = slices.Compact(r.secrets)
}

func (r *Run) redact(s string) string {
	r.mu.Lock()
	secrets := r.secrets
	r.mu.Unlock()
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redactedMark)
	}
	return privateKeyBlock.ReplaceAllString(s, redactedMark)
}

func (r *Run) logf(format string, args ...any) {
	line := r.redact(sprintf(format, args...))
	line = strings.TrimRight(line, "\n")
	now := time.Now().UTC()
	r.mu.Lock()
	r.log = capLog(r.log + now.Format(time.RFC3339) + " " + line + "\n")
	due := now.Sub(r.flushed) >= logFlushInterval
	r.mu.Unlock()
	if due {
		ctx, cancel := bookkeepingContext()
		defer cancel()
		if err := r.save(ctx); err != nil {
			r.q.log.Warn("write operation log", "operation_id", r.Op.ID, "error", err)
		}
	}
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// update changes the operation under the run's lock.
func (r *Run) update(fn func(op *store.Operation)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.Op)
}

// save writes the operation row with the log so far.
func (r *Run) save(ctx context.Context) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	snapshot := *r.Op
	snapshot.Log = r.log
	r.flushed = time.Now()
	r.mu.Unlock()
	if err := r.q.st.UpdateOperation(ctx, &snapshot); err != nil {
		return err
	}
	r.update(func(op *store.Operation) { op.Log, op.UpdatedAt = snapshot.Log, snapshot.UpdatedAt })
	return nil
}

// capLog keeps the newest lines within maxLogBytes.
func capLog(s string) string {
	if len(s) <= maxLogBytes {
		return s
	}
	cut := len(s) - (maxLogBytes - len(droppedMark))
	if i := strings.IndexByte(s[cut:], '\n'); i >= 0 && cut+i+1 < len(s) {
		cut += i + 1
	}
	return droppedMark + s[cut:]
}

// errorText is the redacted, capped message stored for err.
func (r *Run) errorText(err error) string {
	msg := r.redact(err.Error())
	if len(msg) > maxErrorBytes {
		msg = msg[:maxErrorBytes] + "…"
	}
	return msg
}

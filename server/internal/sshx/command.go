package sshx

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Command is one remote program invocation. The remote command line is built
// only from Args, Env and Dir, each quoted separately; nothing is ever pasted
// into shell text.
type Command struct {
	// Args is the program and its arguments. Args[0] is looked up in the
	// remote user's PATH.
	Args []string
	// Env is passed as an `env NAME=VALUE` prefix. Names must be shell
	// identifiers.
	Env map[string]string
	// Dir, if set, must be absolute; the command runs as `cd DIR && ...`.
	Dir string
	// Stdin is streamed to the remote program's standard input. It must
	// eventually return io.EOF or an error. A read error aborts the command,
	// so that a half-sent payload is never taken for a complete one. When
	// ctx ends, Run returns without waiting for a Read in progress.
	Stdin io.Reader
	// Secrets are replaced by "[REDACTED]" in captured output, error messages
	// and logs. Include every password or token that appears in Args, Env or
	// Stdin.
	Secrets []string
}

// Script is a trusted shell script compiled into the binary. Body must be
// constant text (a literal or an embedded file), never built from input:
// values reach the script only as positional parameters $1, $2, ... from Args.
type Script struct {
	Body string
	Args []string
}

// Command returns the invocation `sh -c BODY sh ARGS...`. Stdin stays free
// for data, and nothing the script reads from stdin can swallow its own text.
func (s Script) Command() Command {
	return Command{Args: append([]string{"sh", "-c", s.Body, "sh"}, s.Args...)}
}

// Result is the captured output of a command that ran to completion.
type Result struct {
	Stdout string // empty for Stream, whose stdout goes to the caller's writer
	Stderr string
	// Truncated reports that output beyond Options.MaxOutputBytes was
	// dropped. Use Stream for large output.
	Truncated bool
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// line renders the remote command line.
func (c Command) line() (string, error) {
	if len(c.Args) == 0 {
		return "", errors.New("empty command")
	}
	var words []string
	if len(c.Env) > 0 {
		// env would read such a program name as one more assignment.
		if strings.Contains(c.Args[0], "=") {
			return "", errors.New("program name contains '=' and cannot follow env")
		}
		words = append(words, "env")
		for _, name := range slices.Sorted(maps.Keys(c.Env)) {
			if !envName.MatchString(name) {
				return "", fmt.Errorf("invalid environment variable name %q", name)
			}
			words = append(words, name+"="+c.Env[name])
		}
	}
	line, err := Join(append(words, c.Args...)...)
	if err != nil {
		return "", err
	}
	if c.Dir != "" {
		// An absolute path cannot start with '-' and be taken for an option.
		if !strings.HasPrefix(c.Dir, "/") {
			return "", errors.New("working directory must be absolute")
		}
		dir, err := Quote(c.Dir)
		if err != nil {
			return "", fmt.Errorf("working directory: %w", err)
		}
		line = "cd " + dir + " && " + line
	}
	return line, nil
}

const redactedMark = "[REDACTED]"

// redactor replaces secrets, longest first so that a secret containing
// another is hidden whole.
type redactor struct {
	secrets  []string
	replacer *strings.Replacer
}

func newRedactor(secrets []string) redactor {
	var all []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		// A secret with a single quote appears in a quoted command line in
		// its escaped form.
		all = append(all, s, strings.ReplaceAll(s, "'", `'\''`))
	}
	slices.SortFunc(all, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	all = slices.Compact(all)
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, redactedMark)
	}
	return redactor{secrets: all, replacer: strings.NewReplacer(pairs...)}
}

func (r redactor) redact(s string) string {
	if len(r.secrets) == 0 {
		return s
	}
	return r.replacer.Replace(s)
}

// redactCut redacts output that was cut at a size limit: besides whole
// secrets, the cut may have left the beginning of one at the very end.
func (r redactor) redactCut(s string) string {
	// Longest secrets first, before whole-secret redaction, which could
	// otherwise hide a short secret and leave the rest of a longer one.
	for _, secret := range r.secrets {
		for n := len(secret) - 1; n > 0; n-- {
			if strings.HasSuffix(s, secret[:n]) {
				s = s[:len(s)-n] + redactedMark
				break
			}
		}
	}
	return r.redact(s)
}

func (r redactor) wrap(err error) error {
	if err == nil || len(r.secrets) == 0 {
		return err
	}
	return &redactedError{msg: r.redact(err.Error()), err: err}
}

// capture keeps the first limit bytes written to it. After close it drops
// writes, so that a session still draining after the caller gave up cannot
// touch the result.
type capture struct {
	mu        sync.Mutex
	buf       []byte
	limit     int
	truncated bool
	closed    bool
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	keep := p
	if room := c.limit - len(c.buf); len(keep) > room {
		keep = keep[:max(room, 0)]
		c.truncated = true
	}
	c.buf = append(c.buf, keep...)
	return len(p), nil
}

// finish closes the capture and returns its redacted text.
func (c *capture) finish(r redactor) (text string, truncated bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.truncated {
		return r.redactCut(string(c.buf)), true
	}
	return r.redact(string(c.buf)), false
}

// streamWriter passes stdout to the caller's writer. A write error aborts the
// session, since the remote side would otherwise block on a full window
// forever; after close, late writes are dropped.
type streamWriter struct {
	mu      sync.Mutex
	w       io.Writer
	err     error
	closed  bool
	onError func()
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return len(p), nil
	}
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
		s.onError()
	}
	return n, err
}

func (s *streamWriter) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.err
}

// readTracker records an error from the caller's stdin reader, as opposed
// to a write error caused by the remote side closing its stdin.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// Package sshx is the single path for remote work on managed servers: it runs
// commands, streams data and uploads files over pooled SSH connections.
//
// Every connection verifies a pinned host key; there is no way to skip the
// check. Connections to the same target are shared (up to eight sessions each,
// below OpenSSH's default MaxSessions of ten), kept alive with
// keepalive@openssh.com requests and closed when idle.
//
// Remote command lines are only ever assembled from individually quoted
// arguments (see Quote and Join); data travels over stdin. Output is captured
// with the command's secrets redacted, and failures are classified so that
// callers can tell a transient network problem (IsRetryable) from a permanent
// one such as ErrAuth, ErrHostKeyMismatch or a non-zero *ExitError.
package sshx

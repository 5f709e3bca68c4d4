package sshx

import (
	"fmt"
	"strings"
)

// Quote returns s as a single POSIX shell word. The result is wrapped in
// single quotes, inside which the shell interprets nothing; an embedded single
// quote closes the quoting, adds an escaped quote and reopens it:
//
//	it's  ->  'it'\''s'
//
// A NUL byte cannot be part of a shell argument: the remote side would cut the
// argument short. Quote refuses it with ErrNULInArgument instead.
func Quote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", ErrNULInArgument
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// Join quotes every argument with Quote and joins them with spaces, producing
// a command line that the remote shell splits back into exactly args.
func Join(args ...string) (string, error) {
	var b strings.Builder
	for i, arg := range args {
		q, err := Quote(arg)
		if err != nil {
			// The argument itself is not echoed: it may be a secret.
			return "", fmt.Errorf("argument %d: %w", i, err)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(q)
	}
	return b.String(), nil
}

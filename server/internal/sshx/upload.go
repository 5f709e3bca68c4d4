package sshx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// File is content to install on a target.
type File struct {
	Path    string      // absolute path of the file to create or replace
	Mode    fs.FileMode // permission bits, plus setuid, setgid and sticky
	Owner   string      // optional user name or numeric id
	Group   string      // optional group name or numeric id
	Content io.Reader
}

// uploadWrite receives the content into a temporary file that only the
// login user can read until its final mode is set.
const uploadWrite = `umask 077 && exec cat > "$1"`

// uploadCommit checks that every byte arrived, then sets mode and owner and
// renames the file into place atomically. Any failure removes the temporary
// file.
const uploadCommit = `set -e
tmp=$1 dst=$2 size=$3 mode=$4 owner=$5 group=$6
trap 'rm -f "$tmp"' EXIT
got=$(($(wc -c < "$tmp")))
if [ "$got" -ne "$size" ]; then
	echo "upload: received $got bytes, sent $size" >&2
	exit 1
fi
chmod "$mode" "$tmp"
if [ -n "$owner" ]; then
	chown "$owner${group:+:$group}" "$tmp"
elif [ -n "$group" ]; then
	chgrp "$group" "$tmp"
fi
mv -f "$tmp" "$dst"
`

var accountName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// Upload installs f on t over the pooled connection, without SFTP: the
// content is streamed into a temporary file next to f.Path, which is then
// checked, given its mode and owner, and renamed over f.Path. Readers of
// f.Path see either the old or the new file, never a partial one. If
// f.Content fails or the connection breaks, f.Path is left untouched.
func (e *Executor) Upload(ctx context.Context, t Target, f File) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("upload to %s: %w", t, err)
	}
	tmp, err := tempName(f.Path)
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", f.Path, t, err)
	}
	src := &countingReader{r: f.Content}
	write := Script{Body: uploadWrite, Args: []string{tmp}}.Command()
	write.Stdin = src
	if _, err := e.Run(ctx, t, write); err != nil {
		e.removeTemp(ctx, t, tmp)
		return fmt.Errorf("upload %s: %w", f.Path, err)
	}
	n, complete := src.result()
	if !complete {
		// The remote side exited before reading everything.
		e.removeTemp(ctx, t, tmp)
		return fmt.Errorf("upload %s to %s: the remote side stopped reading after %d bytes", f.Path, t, n)
	}
	commit := Script{Body: uploadCommit, Args: []string{
		tmp, f.Path, strconv.FormatInt(n, 10), fileMode(f.Mode), f.Owner, f.Group,
	}}.Command()
	if _, err := e.Run(ctx, t, commit); err != nil {
		// The commit script cleans up after itself, unless the connection
		// broke before it ran.
		e.removeTemp(ctx, t, tmp)
		return fmt.Errorf("upload %s: %w", f.Path, err)
	}
	return nil
}

func (f File) validate() error {
	switch {
	case f.Content == nil:
		return errors.New("no content")
	case !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/":
		return fmt.Errorf("path %q is not a clean absolute file path", f.Path)
	case f.Owner != "" && !accountName.MatchString(f.Owner):
		return fmt.Errorf("invalid owner %q", f.Owner)
	case f.Group != "" && !accountName.MatchString(f.Group):
		return fmt.Errorf("invalid group %q", f.Group)
	}
	return nil
}

// tempName returns a hidden, unique name in the destination's directory, so
// that the final rename stays within one filesystem.
func tempName(dst string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("temporary name: %w", err)
	}
	base := path.Base(dst)
	if len(base) > 100 {
		base = base[:100]
	}
	return path.Join(path.Dir(dst), "."+base+".chom-"+hex.EncodeToString(b[:])), nil
}

// fileMode renders m for chmod, including the bits that fs.FileMode keeps
// outside Perm.
func fileMode(m fs.FileMode) string {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("%04o", bits)
}

// removeTemp deletes a leftover temporary file on a best-effort basis, even
// when ctx has already ended.
func (e *Executor) removeTemp(ctx context.Context, t Target, tmp string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := e.Run(ctx, t, Command{Args: []string{"rm", "-f", tmp}}); err != nil {
		e.log.DebugContext(ctx, "ssh upload: temporary file not removed", "target", t, "path", tmp, "error", err)
	}
}

// countingReader counts bytes and notes whether the source reached EOF. Run
// may return while its stdin copier is still reading, hence the lock.
type countingReader struct {
	mu  sync.Mutex
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) result() (n int64, complete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.eof
}

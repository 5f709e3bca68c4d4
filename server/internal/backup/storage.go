package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Storage keeps encrypted archives under opaque keys.
type Storage interface {
	// Put stores everything read from r under key, replacing any object
	// of that name, and returns the bytes stored. The object appears only
	// once r has returned io.EOF: a read error (or ctx ending) leaves no
	// object behind, and the previous one, if any, untouched.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open reads the object; a missing one is ErrObjectNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrObjectNotFound means storage holds no object under the key.
var ErrObjectNotFound = errors.New("backup object not found in storage")

// StorageConfig selects and configures the storage: S3 when S3Endpoint is
// set, else the local directory Dir.
type StorageConfig struct {
	Dir         string
	S3Endpoint  string
	S3Bucket    string
	S3Region    string
	S3AccessKey string
	S3SecretKey string
}

// OpenStorage returns the storage cfg selects.
func OpenStorage(ctx context.Context, cfg StorageConfig) (Storage, error) {
	// Each branch returns a nil interface on error, not a typed nil.
	if cfg.S3Endpoint != "" {
		s3, err := NewS3Storage(ctx, S3Config{
			Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
		})
		if err != nil {
			return nil, err
		}
		return s3, nil
	}
	local, err := NewLocalStorage(cfg.Dir)
	if err != nil {
		return nil, err
	}
	return local, nil
}

// keyPattern is what every key looks like: slash-separated names of safe
// characters, none starting with a dot, so a key can never climb out of
// the storage directory or hide among temporary files.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

func checkKey(key string) error {
	if len(key) > 512 || !keyPattern.MatchString(key) {
		return fmt.Errorf("invalid backup object key %q", key)
	}
	return nil
}

// LocalStorage keeps archives as files of one directory tree, readable by
// the server's user only. A file is written under a temporary name, synced
// and renamed into place, so a crash never leaves a partial archive under
// its key.
type LocalStorage struct {
	dir string
}

var _ Storage = (*LocalStorage)(nil)

// NewLocalStorage uses dir, creating it (mode 0700) when missing.
func NewLocalStorage(dir string) (*LocalStorage, error) {
	if dir == "" {
		return nil, errors.New("backup storage: no directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("backup storage: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("backup storage: %w", err)
	}
	return &LocalStorage{dir: abs}, nil
}

// path maps a key to its file.
func (l *LocalStorage) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// partialPrefix starts the temporary names of files being written; the
// leading dot keeps them out of the key space.
const partialPrefix = ".partial-"

// Put implements Storage.
func (l *LocalStorage) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	path, err := l.path(key)
	if err != nil {
		return 0, err
	}
	dir, base := filepath.Split(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	// Only one attempt writes a key at a time: what an earlier, killed
	// attempt left is garbage.
	if stale, err := filepath.Glob(filepath.Join(dir, partialPrefix+base+".*")); err == nil {
		for _, s := range stale {
			_ = os.Remove(s)
		}
	}
	f, err := os.CreateTemp(dir, partialPrefix+base+".*")
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, contextReader{ctx: ctx, r: r})
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	committed = true
	// The rename is durable once the directory is.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return n, nil
}

// Open implements Storage.
func (l *LocalStorage) Open(_ context.Context, key string) (io.ReadCloser, error) {
	path, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrObjectNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return f, nil
}

// Delete implements Storage.
func (l *LocalStorage) Delete(_ context.Context, key string) error {
	path, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// contextReader stops a copy once ctx ends, whatever the reader does.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

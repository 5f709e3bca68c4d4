package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 runs an in-process S3 server over HTTPS, as a real endpoint is
// reached, with one bucket.
func fakeS3(t *testing.T) *S3Storage {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("chom-backups"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	st, err := NewS3Storage(context.Background(), S3Config{
		Endpoint: srv.URL, Bucket: "chom-backups", Region: "us-east-1", AccessKey: "test", SecretKey: "test-secret",
		Transport: srv.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStorage runs the same contract against every implementation.
func TestStorage(t *testing.T) {
	impls := map[string]func(t *testing.T) Storage{
		"local": func(t *testing.T) Storage {
			st, err := NewLocalStorage(filepath.Join(t.TempDir(), "backups"))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"s3": func(t *testing.T) Storage { return fakeS3(t) },
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			big := randomBytes(t, 20<<20+3) // more than one S3 part
			key := "org-1/backup-1.tar.age"

			n, err := st.Put(ctx, key, bytes.NewReader(big))
			if err != nil || n != int64(len(big)) {
				t.Fatalf("put: %d, %v", n, err)
			}
			if got := read(t, st, key); !bytes.Equal(got, big) {
				t.Fatalf("read back %d bytes, wrote %d", len(got), len(big))
			}

			// A put that fails half-way leaves the previous object as it was.
			failing := io.MultiReader(bytes.NewReader([]byte("partial archive")), errReader{errors.New("ssh stream cut")})
			if _, err := st.Put(ctx, key, failing); err == nil || !strings.Contains(err.Error(), "ssh stream cut") {
				t.Fatalf("failed put = %v", err)
			}
			if got := read(t, st, key); !bytes.Equal(got, big) {
				t.Fatal("a failed put changed the stored object")
			}
			// And creates nothing under a new key.
			failing = io.MultiReader(bytes.NewReader([]byte("partial")), errReader{errors.New("cut")})
			if _, err := st.Put(ctx, "org-1/other.tar.age", failing); err == nil {
				t.Fatal("a failed put succeeded")
			}
			if _, err := st.Open(ctx, "org-1/other.tar.age"); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("open after a failed put = %v, want ErrObjectNotFound", err)
			}

			// A cancelled context stops the put.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := st.Put(cctx, "org-1/cancelled.tar.age", bytes.NewReader(big)); err == nil {
				t.Fatal("a put with a cancelled context succeeded")
			}

			// Replacing works.
			if _, err := st.Put(ctx, key, strings.NewReader("v2")); err != nil {
				t.Fatal(err)
			}
			if got := read(t, st, key); string(got) != "v2" {
				t.Fatalf("after replacing: %q", got)
			}

			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Open(ctx, key); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("open after delete = %v, want ErrObjectNotFound", err)
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Fatalf("deleting a missing object: %v", err)
			}

			for _, bad := range []string{"", "/abs", "../escape", "a/../../b", "a//b", ".hidden", "a/.partial-x", "sp ace", "a\x00b"} {
				if _, err := st.Put(ctx, bad, strings.NewReader("x")); err == nil {
					t.Errorf("put accepted the key %q", bad)
				}
				if _, err := st.Open(ctx, bad); err == nil || errors.Is(err, ErrObjectNotFound) {
					t.Errorf("open accepted the key %q: %v", bad, err)
				}
			}
		})
	}
}

func read(t *testing.T, st Storage, key string) []byte {
	t.Helper()
	r, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLocalStorageFiles checks what the local storage leaves on disk:
// archives readable by the server's user only, and no temporary file, even
// one a killed attempt left behind.
func TestLocalStorageFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	st, err := NewLocalStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// What a server killed during a put leaves behind.
	if err := os.MkdirAll(filepath.Join(dir, "org"), 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "org", partialPrefix+"b.tar.age.123")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "org/b.tar.age", strings.NewReader("archive")); err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | os.ModeDir
		}
		if info.Mode() != want {
			t.Errorf("%s has mode %v, want %v", rel, info.Mode(), want)
		}
		if !d.IsDir() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, ",") != filepath.Join("org", "b.tar.age") {
		t.Fatalf("files = %v, want only the archive", files)
	}
}

func TestOpenStorageSelects(t *testing.T) {
	ctx := context.Background()
	local, err := OpenStorage(ctx, StorageConfig{Dir: t.TempDir()})
	if _, ok := local.(*LocalStorage); !ok || err != nil {
		t.Fatalf("without an S3 endpoint: %T, %v", local, err)
	}
	backend := s3mem.New()
	if err := backend.CreateBucket("chom"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	s3, err := OpenStorage(ctx, StorageConfig{Dir: t.TempDir(), S3Endpoint: srv.URL, S3Bucket: "chom", S3AccessKey: "a", S3SecretKey: "s"})
	if _, ok := s3.(*S3Storage); !ok || err != nil {
		t.Fatalf("with an S3 endpoint: %T, %v", s3, err)
	}
	if _, err := OpenStorage(ctx, StorageConfig{Dir: t.TempDir(), S3Endpoint: srv.URL}); err == nil {
		t.Fatal("an S3 endpoint without a bucket was accepted")
	}
}

func TestS3StorageConfig(t *testing.T) {
	for _, tc := range []struct {
		endpoint, host string
		secure, ok     bool
	}{
		{"https://s3.example.com", "s3.example.com", true, true},
		{"s3.example.com:9000", "s3.example.com:9000", true, true},
		{"http://127.0.0.1:9000/", "127.0.0.1:9000", false, true},
		{"ftp://s3.example.com", "", false, false},
		{"https://s3.example.com/bucket", "", false, false},
		{"https://user:pw@s3.example.com", "", false, false},
		{"https://", "", false, false},
	} {
		host, secure, err := parseEndpoint(tc.endpoint)
		if (err == nil) != tc.ok || host != tc.host || secure != tc.secure {
			t.Errorf("parseEndpoint(%q) = %q, %v, %v", tc.endpoint, host, secure, err)
		}
	}
	srv := httptest.NewTLSServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	_, err := NewS3Storage(context.Background(), S3Config{
		Endpoint: srv.URL, Bucket: "missing", AccessKey: "a", SecretKey: "b", Transport: srv.Client().Transport,
	})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing bucket: %v", err)
	}
	if _, err := NewS3Storage(context.Background(), S3Config{Endpoint: srv.URL}); err == nil {
		t.Fatal("no bucket accepted")
	}
}

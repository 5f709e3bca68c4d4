package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config reaches an S3-compatible bucket.
type S3Config struct {
	// Endpoint is https://host[:port] (http:// for a local test server);
	// a bare host[:port] means HTTPS.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// Transport replaces the HTTP transport, for tests.
	Transport http.RoundTripper
}

// s3PartSize is the size of each multipart chunk: archives are streamed
// without a known length, so one part at a time is held in memory.
const s3PartSize = 16 << 20

// S3Storage keeps archives as objects of one bucket. An object appears only
// when its multipart upload completes; a failed upload is aborted.
type S3Storage struct {
	client *minio.Client
	bucket string
}

var _ Storage = (*S3Storage)(nil)

// NewS3Storage connects to the bucket, which must exist.
func NewS3Storage(ctx context.Context, cfg S3Config) (*S3Storage, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("backup storage: CHOM_S3_BUCKET is required with CHOM_S3_ENDPOINT")
	}
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("backup storage: %w", err)
	}
	client, err := minio.New(host, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    secure,
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("backup storage: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("backup storage: check bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("backup storage: bucket %s does not exist", cfg.Bucket)
	}
	return &S3Storage{client: client, bucket: cfg.Bucket}, nil
}

func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return "", false, fmt.Errorf("CHOM_S3_ENDPOINT must be https://host[:port], got %q", endpoint)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("CHOM_S3_ENDPOINT: unsupported scheme %q", u.Scheme)
}

// Put implements Storage.
func (s *S3Storage) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, contextReader{ctx: ctx, r: r}, -1, minio.PutObjectOptions{
		PartSize:    s3PartSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return info.Size, nil
}

// Open implements Storage.
func (s *S3Storage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, s3Error(err))
	}
	// GetObject is lazy: Stat makes a missing object an error here.
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		return nil, fmt.Errorf("open %s: %w", key, s3Error(err))
	}
	return obj, nil
}

// Delete implements Storage.
func (s *S3Storage) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err = s3Error(err); err != nil && !errors.Is(err, ErrObjectNotFound) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func s3Error(err error) error {
	if err == nil {
		return nil
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return ErrObjectNotFound
	}
	return err
}

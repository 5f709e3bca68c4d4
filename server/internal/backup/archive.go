package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// An archive is one age-encrypted tar stream:
//
//	manifest.json              what the archive holds (manifest below)
//	files.tar.zst.000000 …     the site's application directory, a tar
//	database.sql.zst.000000 …  the site's database, an SQL dump
//
// Each component is compressed with zstd by the control plane, sparing the
// site's server the CPU, and streamed as it is produced, before its size
// is known; a tar entry needs its size up front, so a component is cut
// into parts of at most partSize bytes: concatenated in order they are the
// component (cat files.tar.zst.* | zstd -d | tar -t). The SHA-256 recorded
// for a backup is that of this plaintext tar stream.
const (
	archiveFormat     = "chom-backup/1"
	manifestName      = "manifest.json"
	componentFiles    = "files.tar.zst"
	componentDatabase = "database.sql.zst"
	partDigits        = 6
)

// partSize bounds a part, and so the memory a backup in progress holds.
var partSize = 8 << 20

// manifest describes an archive; it is its first entry.
type manifest struct {
	Format     string    `json:"format"`
	BackupID   string    `json:"backup_id"`
	SiteID     string    `json:"site_id"`
	SiteType   string    `json:"site_type"`
	Type       string    `json:"type"`
	Components []string  `json:"components"`
	CreatedAt  time.Time `json:"created_at"`
}

// archiveWriter writes the plaintext tar stream of an archive.
type archiveWriter struct {
	tw    *tar.Writer
	mtime time.Time
	buf   []byte
	name  string // component being written
	part  int
	err   error
	// written counts the bytes of the component being written.
	written int64
}

// newArchiveWriter writes m to w and returns the writer of the components.
func newArchiveWriter(w io.Writer, m manifest) (*archiveWriter, error) {
	a := &archiveWriter{tw: tar.NewWriter(w), mtime: m.CreatedAt.UTC().Truncate(time.Second)}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := a.entry(manifestName, append(body, '\n')); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	return a, nil
}

func (a *archiveWriter) entry(name string, body []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o600,
		ModTime: a.mtime, Format: tar.FormatPAX,
	}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := a.tw.Write(body)
	return err
}

// begin starts a component; Write then takes its bytes until end.
func (a *archiveWriter) begin(name string) {
	a.name, a.part, a.buf, a.written = name, 0, a.buf[:0], 0
}

// Write buffers component bytes, writing a part whenever one is full.
func (a *archiveWriter) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if a.name == "" {
		return 0, errors.New("archive: write outside a component")
	}
	n := len(p)
	a.written += int64(n)
	for len(p) > 0 {
		if a.buf == nil {
			a.buf = make([]byte, 0, partSize)
		}
		take := min(len(p), partSize-len(a.buf))
		a.buf = append(a.buf, p[:take]...)
		p = p[take:]
		if len(a.buf) == partSize {
			if a.err = a.flush(); a.err != nil {
				return 0, a.err
			}
		}
	}
	return n, nil
}

func (a *archiveWriter) flush() error {
	name := a.name + "." + fmt.Sprintf("%0*d", partDigits, a.part)
	if err := a.entry(name, a.buf); err != nil {
		return fmt.Errorf("archive: write %s: %w", name, err)
	}
	a.part++
	a.buf = a.buf[:0]
	return nil
}

// end writes the component's last part; an empty component still gets
// one (empty) part, so that every component listed is present.
func (a *archiveWriter) end() error {
	if a.err == nil && (len(a.buf) > 0 || a.part == 0) {
		a.err = a.flush()
	}
	a.name = ""
	return a.err
}

// Close ends the tar stream (it does not close the underlying writer).
func (a *archiveWriter) Close() error {
	if a.err != nil {
		return a.err
	}
	return a.tw.Close()
}

// ErrCorrupt means a stored archive is not the one recorded: it fails to
// decrypt, is truncated or malformed, or its checksum or manifest differ.
// Retrying cannot fix it.
var ErrCorrupt = errors.New("the stored archive is corrupted or was replaced")

// archiveReader reads the components of a stored archive. It hashes the
// plaintext it reads, for verify.
type archiveReader struct {
	obj      io.Closer
	src      *sourceReader
	hash     hash.Hash
	plain    io.Reader
	tr       *tar.Reader
	manifest manifest
	next     *tar.Header // read ahead by a component that ended
}

// openArchive opens the object under key and reads its manifest.
func openArchive(ctx context.Context, st Storage, keys *Keys, key string) (*archiveReader, error) {
	obj, err := st.Open(ctx, key)
	if errors.Is(err, ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err != nil {
		return nil, err
	}
	src := &sourceReader{r: contextReader{ctx: ctx, r: obj}}
	a := &archiveReader{obj: obj, src: src, hash: sha256.New()}
	plain, err := keys.decrypt(src)
	if err != nil {
		_ = obj.Close()
		return nil, a.classify(err)
	}
	a.plain = io.TeeReader(plain, a.hash)
	a.tr = tar.NewReader(a.plain)
	hdr, err := a.tr.Next()
	if err != nil {
		_ = obj.Close()
		return nil, a.classify(fmt.Errorf("read manifest: %w", err))
	}
	if hdr.Name != manifestName || hdr.Size > 1<<20 {
		_ = obj.Close()
		return nil, fmt.Errorf("%w: its first entry is %q, not the manifest", ErrCorrupt, hdr.Name)
	}
	body, err := io.ReadAll(a.tr)
	if err == nil {
		err = json.Unmarshal(body, &a.manifest)
	}
	if err != nil {
		_ = obj.Close()
		return nil, a.classify(fmt.Errorf("read manifest: %w", err))
	}
	if a.manifest.Format != archiveFormat {
		_ = obj.Close()
		return nil, fmt.Errorf("%w: unknown format %q", ErrCorrupt, a.manifest.Format)
	}
	return a, nil
}

// Close closes the stored object.
func (a *archiveReader) Close() error { return a.obj.Close() }

// classify tells a storage failure, worth retrying, from an archive that
// does not decrypt or parse, which no retry fixes.
func (a *archiveReader) classify(err error) error {
	if err == nil {
		return nil
	}
	if a.src.err != nil {
		return fmt.Errorf("read the stored archive: %w", a.src.err)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// component returns the reader of the named component: its parts, in
// order, as one stream. Components must be read in the archive's order.
func (a *archiveReader) component(name string) (io.Reader, error) {
	for {
		hdr, err := a.header()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: it holds no %s", ErrCorrupt, name)
		}
		if err != nil {
			return nil, err
		}
		if hdr.Name == partName(name, 0) {
			return &componentReader{a: a, name: name}, nil
		}
		// Another component: skip its bytes.
		if _, err := io.Copy(io.Discard, a.tr); err != nil {
			return nil, a.classify(err)
		}
	}
}

func (a *archiveReader) header() (*tar.Header, error) {
	if h := a.next; h != nil {
		a.next = nil
		return h, nil
	}
	hdr, err := a.tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, a.classify(err)
	}
	return hdr, nil
}

func partName(component string, n int) string {
	return component + "." + fmt.Sprintf("%0*d", partDigits, n)
}

// componentReader reads the parts of one component in sequence.
type componentReader struct {
	a    *archiveReader
	name string
	part int
	done bool
}

func (c *componentReader) Read(p []byte) (int, error) {
	for !c.done {
		n, err := c.a.tr.Read(p)
		switch {
		case n > 0 || len(p) == 0:
			return n, nil
		case err == nil:
			continue
		case !errors.Is(err, io.EOF):
			return 0, c.a.classify(err)
		}
		// This part is exhausted: the next entry continues the component
		// only if it is its next part.
		hdr, err := c.a.tr.Next()
		switch {
		case errors.Is(err, io.EOF):
			c.done = true
		case err != nil:
			return 0, c.a.classify(err)
		case hdr.Name == partName(c.name, c.part+1):
			c.part++
		case strings.HasPrefix(hdr.Name, c.name+"."):
			return 0, fmt.Errorf("%w: part %s out of order", ErrCorrupt, hdr.Name)
		default:
			c.a.next = hdr
			c.done = true
		}
	}
	return 0, io.EOF
}

// verifyArchive reads the whole stored object under key and checks that it
// decrypts, that it is the archive of the backup with the given id holding
// the given components, and that its plaintext's SHA-256 is sum. Anything
// else is ErrCorrupt; a storage failure is returned as it is.
func verifyArchive(ctx context.Context, st Storage, keys *Keys, key, backupID, sum string, components []string) error {
	a, err := openArchive(ctx, st, keys, key)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	if a.manifest.BackupID != backupID {
		return fmt.Errorf("%w: it is the archive of backup %s", ErrCorrupt, a.manifest.BackupID)
	}
	if strings.Join(a.manifest.Components, ",") != strings.Join(components, ",") {
		return fmt.Errorf("%w: it holds %v, not %v", ErrCorrupt, a.manifest.Components, components)
	}
	var parts []string
	for {
		hdr, err := a.header()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		parts = append(parts, hdr.Name)
		if _, err := io.Copy(io.Discard, a.tr); err != nil {
			return a.classify(err)
		}
	}
	if err := checkParts(parts, components); err != nil {
		return err
	}
	// The tar reader stops at the end-of-archive marker; the hash covers
	// the padding after it too, and age checks its final chunk only at EOF.
	if _, err := io.Copy(io.Discard, a.plain); err != nil {
		return a.classify(err)
	}
	if got := hex.EncodeToString(a.hash.Sum(nil)); got != sum {
		return fmt.Errorf("%w: its SHA-256 is %s, the backup recorded %s", ErrCorrupt, got, sum)
	}
	return nil
}

// checkParts checks that the entries after the manifest are the parts of
// the components, each numbered from 0 without a gap.
func checkParts(parts, components []string) error {
	i := 0
	for _, c := range components {
		n := 0
		for i < len(parts) && strings.HasPrefix(parts[i], c+".") {
			if parts[i] != partName(c, n) {
				return fmt.Errorf("%w: part %s out of order", ErrCorrupt, parts[i])
			}
			i, n = i+1, n+1
		}
		if n == 0 {
			return fmt.Errorf("%w: it holds no %s", ErrCorrupt, c)
		}
	}
	if i != len(parts) {
		return fmt.Errorf("%w: unexpected entry %s", ErrCorrupt, parts[i])
	}
	return nil
}

// sourceReader remembers an error of the stored object's reader, so that
// a failure to read storage is not mistaken for a corrupted archive.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// hashingWriter counts and hashes what passes through it to w.
type hashingWriter struct {
	w    io.Writer
	hash hash.Hash
	n    int64
}

func newHashingWriter(w io.Writer) *hashingWriter {
	return &hashingWriter{w: w, hash: sha256.New()}
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.hash.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingWriter) sum() string { return hex.EncodeToString(h.hash.Sum(nil)) }

// compress returns a writer compressing into w; Close flushes it. The
// fastest level keeps up with a fast network on one core, and still
// shrinks text and SQL several times.
func compress(w io.Writer) (*zstd.Encoder, error) {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return zw, nil
}

// decompress returns the reader of the component compressed in r. Close
// releases it.
func decompress(r io.Reader) (*zstd.Decoder, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, fmt.Errorf("%w: decompress: %w", ErrCorrupt, err)
	}
	return zr, nil
}

// countingWriter counts the bytes of a component, for the operation log.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// formatBytes renders a size for the operation log.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

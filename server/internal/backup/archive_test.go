package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/chomhq/chom/server/internal/secrets"
)

func testKeys(t *testing.T) *Keys {
	t.Helper()
	box, err := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeys(box)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// memStorage is storage in memory that can be told to fail reads.
type memStorage struct {
	objects map[string][]byte
	readErr error
}

func newMemStorage() *memStorage { return &memStorage{objects: map[string][]byte{}} }

func (m *memStorage) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	m.objects[key] = b
	return int64(len(b)), nil
}

func (m *memStorage) Open(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := m.objects[key]
	if !ok {
		return nil, ErrObjectNotFound
	}
	var r io.Reader = bytes.NewReader(b)
	if m.readErr != nil {
		r = io.MultiReader(io.LimitReader(r, int64(len(b)/2)), errReader{m.readErr})
	}
	return io.NopCloser(r), nil
}

func (m *memStorage) Delete(_ context.Context, key string) error {
	delete(m.objects, key)
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// writeTestArchive stores an archive of the given components under key and
// returns its recorded checksum.
func writeTestArchive(t *testing.T, st Storage, keys *Keys, key, backupID string, comps map[string][]byte, order []string) string {
	t.Helper()
	var obj bytes.Buffer
	enc, err := keys.encrypt(&obj)
	if err != nil {
		t.Fatal(err)
	}
	plain := newHashingWriter(enc)
	aw, err := newArchiveWriter(plain, manifest{
		Format: archiveFormat, BackupID: backupID, SiteID: "site-1", SiteType: "wordpress",
		Type: TypeFull, Components: order, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range order {
		aw.begin(name)
		// Odd write sizes cross part boundaries at every offset.
		data := comps[name]
		for len(data) > 0 {
			n := min(len(data), 777)
			if _, err := aw.Write(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		if err := aw.end(); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), key, &obj); err != nil {
		t.Fatal(err)
	}
	return plain.sum()
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArchiveRoundTrip(t *testing.T) {
	defer func(n int) { partSize = n }(partSize)
	partSize = 4096
	keys := testKeys(t)
	order := []string{componentFiles, componentDatabase}
	for _, tc := range []struct {
		name            string
		files, database []byte
	}{
		{"empty components", nil, nil},
		{"smaller than a part", []byte("index"), []byte("CREATE TABLE t;")},
		{"exactly one part", randomBytes(t, 4096), randomBytes(t, 4096)},
		{"many parts", randomBytes(t, 3*4096+17), randomBytes(t, 5*4096-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStorage()
			comps := map[string][]byte{componentFiles: tc.files, componentDatabase: tc.database}
			sum := writeTestArchive(t, st, keys, "org/b1.tar.age", "b1", comps, order)
			ctx := context.Background()
			if err := verifyArchive(ctx, st, keys, "org/b1.tar.age", "b1", sum, order); err != nil {
				t.Fatalf("verify: %v", err)
			}
			for _, name := range order {
				a, err := openArchive(ctx, st, keys, "org/b1.tar.age")
				if err != nil {
					t.Fatal(err)
				}
				r, err := a.component(name)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				_ = a.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, comps[name]) {
					t.Fatalf("%s: read %d bytes back, wrote %d", name, len(got), len(comps[name]))
				}
			}
		})
	}
}

func TestArchiveEncryptsEverything(t *testing.T) {
	keys := testKeys(t)
	st := newMemStorage()
	secret := []byte("the known content of wp-config.php: DB_PASSWORD hunter2")
	id := "5f1d3c2a-9b8e-4f7a-8c6d-2e1f0a9b8c7d"
	writeTestArchive(t, st, keys, "k", id, map[string][]byte{componentFiles: secret, componentDatabase: secret},
		[]string{componentFiles, componentDatabase})
	raw := st.objects["k"]
	for _, needle := range [][]byte{secret, []byte("hunter2"), []byte(manifestName), []byte(componentFiles), []byte(id)} {
		if bytes.Contains(raw, needle) {
			t.Errorf("the stored object contains %q in clear", needle)
		}
	}
	// Another master key opens nothing.
	box, _ := secrets.New(bytes.Repeat([]byte{8}, secrets.KeySize))
	other, err := NewKeys(box)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openArchive(context.Background(), st, other, "k"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("opened with another key: %v", err)
	}
}

// TestArchiveTamperDetection changes the stored object in the ways storage
// could: every one is ErrCorrupt, so a restore refuses it; a storage read
// error is not, so the restore is retried instead.
func TestArchiveTamperDetection(t *testing.T) {
	defer func(n int) { partSize = n }(partSize)
	partSize = 4096
	keys := testKeys(t)
	order := []string{componentFiles, componentDatabase}
	comps := map[string][]byte{componentFiles: randomBytes(t, 20000), componentDatabase: randomBytes(t, 9000)}
	ctx := context.Background()

	good := newMemStorage()
	sum := writeTestArchive(t, good, keys, "k", "b1", comps, order)
	other := newMemStorage()
	otherSum := writeTestArchive(t, other, keys, "k", "b2", comps, order)
	obj := good.objects["k"]

	for _, tc := range []struct {
		name    string
		object  []byte
		id, sum string
		comps   []string
		corrupt bool
	}{
		{name: "intact", object: obj, id: "b1", sum: sum, comps: order},
		{name: "byte flipped in the header", object: flip(obj, 40), id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "byte flipped in the payload", object: flip(obj, len(obj)/2), id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "last byte flipped", object: flip(obj, len(obj)-1), id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "truncated", object: obj[:len(obj)-100], id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "empty", object: nil, id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "another backup's archive", object: other.objects["k"], id: "b1", sum: sum, comps: order, corrupt: true},
		{name: "another backup's archive and checksum", object: other.objects["k"], id: "b1", sum: otherSum, comps: order, corrupt: true},
		{name: "checksum differs", object: obj, id: "b1", sum: strings.Repeat("0", 64), comps: order, corrupt: true},
		{name: "components differ", object: obj, id: "b1", sum: sum, comps: []string{componentFiles}, corrupt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStorage()
			st.objects["k"] = tc.object
			err := verifyArchive(ctx, st, keys, "k", tc.id, tc.sum, tc.comps)
			if tc.corrupt != errors.Is(err, ErrCorrupt) || (!tc.corrupt && err != nil) {
				t.Fatalf("verify = %v, want corrupt=%v", err, tc.corrupt)
			}
		})
	}

	t.Run("missing object", func(t *testing.T) {
		if err := verifyArchive(ctx, newMemStorage(), keys, "k", "b1", sum, order); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("verify = %v, want ErrCorrupt", err)
		}
	})
	t.Run("storage read error", func(t *testing.T) {
		st := newMemStorage()
		st.objects["k"] = obj
		st.readErr = errors.New("connection reset by peer")
		err := verifyArchive(ctx, st, keys, "k", "b1", sum, order)
		if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("verify = %v, want the storage error, not ErrCorrupt", err)
		}
	})
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x01
	return out
}

// TestKeysMatchAge checks the derived identity is a valid age identity:
// the age library decrypts what it encrypts, and the identity string age
// prints parses back to the same key.
func TestKeysMatchAge(t *testing.T) {
	keys := testKeys(t)
	again, err := age.ParseX25519Identity(keys.identity.String())
	if err != nil {
		t.Fatal(err)
	}
	if again.Recipient().String() != keys.identity.Recipient().String() {
		t.Fatal("the identity does not survive its own encoding")
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, again.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("hello"))
	_ = w.Close()
	r, err := keys.decrypt(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if string(got) != "hello" {
		t.Fatalf("decrypted %q", got)
	}
	// The same master key always derives the same identity.
	if testKeys(t).identity.String() != keys.identity.String() {
		t.Fatal("the identity is not deterministic")
	}
}

func TestBech32KnownVector(t *testing.T) {
	// BIP 173 test vector, upper-cased: "A12UEL5L" is the empty payload
	// under the prefix "A".
	got, err := bech32Encode("A", nil)
	if err != nil || got != "A12UEL5L" {
		t.Fatalf("bech32Encode = %q, %v", got, err)
	}
}

// TestComponentCompression round-trips a component through the
// compression the archive applies, and refuses a stream that is not one.
func TestComponentCompression(t *testing.T) {
	text := bytes.Repeat([]byte("INSERT INTO wp_posts VALUES (1, 'hello world');\n"), 20000)
	var buf bytes.Buffer
	zw, err := compress(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(text); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()*10 > len(text) {
		t.Fatalf("%d bytes of SQL compressed to %d", len(text), buf.Len())
	}
	zr, err := decompress(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	zr.Close()
	if err != nil || !bytes.Equal(got, text) {
		t.Fatalf("decompressed %d bytes, %v", len(got), err)
	}
	zr, err = decompress(bytes.NewReader(text))
	if err == nil {
		_, err = io.ReadAll(zr)
		zr.Close()
	}
	if err == nil {
		t.Fatal("plain text decompressed")
	}
}

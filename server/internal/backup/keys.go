package backup

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/chomhq/chom/server/internal/secrets"
)

// KeyPurpose names the key secrets.Box derives for backup encryption.
const KeyPurpose = "backup"

// Keys encrypt archives to an age X25519 identity derived from the master
// key: its scalar is secrets.Box.DeriveKey(KeyPurpose), HKDF-SHA256 of the
// master key with the info "chom backup". Deriving it means no key is
// stored beside the archives, every server sharing the master key reads
// every archive, and an operator holding the master key can rebuild the
// identity (AGE-SECRET-KEY-1… is the Bech32 of that scalar) and decrypt an
// archive with the age command line. age gives each archive its own file
// key and authenticates every 64 KiB chunk, so a changed or truncated
// object fails to decrypt.
type Keys struct {
	identity *age.X25519Identity
}

// NewKeys derives the backup identity from the box's master key.
func NewKeys(box *secrets.Box) (*Keys, error) {
	encoded, err := bech32Encode("AGE-SECRET-KEY-", box.DeriveKey(KeyPurpose))
	if err != nil {
		return nil, fmt.Errorf("backup key: %w", err)
	}
	// Parsing what was encoded checks the encoding too.
	id, err := age.ParseX25519Identity(encoded)
	if err != nil {
		return nil, fmt.Errorf("backup key: %w", err)
	}
	return &Keys{identity: id}, nil
}

// encrypt returns a writer whose input reaches w encrypted; Close writes
// the last chunk, without which the archive does not decrypt.
func (k *Keys) encrypt(w io.Writer) (io.WriteCloser, error) {
	enc, err := age.Encrypt(w, k.identity.Recipient())
	if err != nil {
		return nil, fmt.Errorf("encrypt archive: %w", err)
	}
	return enc, nil
}

// decrypt returns the plaintext of the archive read from r.
func (k *Keys) decrypt(r io.Reader) (io.Reader, error) {
	plain, err := age.Decrypt(r, k.identity)
	if err != nil {
		return nil, fmt.Errorf("decrypt archive: %w", err)
	}
	return plain, nil
}

// bech32Encode encodes data as BIP 173 Bech32 under an upper-case hrp, the
// form age prints identities in; age exports only the decoder.
func bech32Encode(hrp string, data []byte) (string, error) {
	if hrp == "" || strings.ToUpper(hrp) != hrp {
		return "", errors.New("bech32: the prefix must be upper case")
	}
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	var values []byte
	acc, bits := uint32(0), 0
	for _, b := range data {
		acc = acc<<8 | uint32(b)
		for bits += 8; bits >= 5; {
			bits -= 5
			values = append(values, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits))&31)
	}
	lower := strings.ToLower(hrp)
	expanded := make([]byte, 0, 2*len(lower)+1+len(values)+6)
	for _, c := range []byte(lower) {
		expanded = append(expanded, c>>5)
	}
	expanded = append(expanded, 0)
	for _, c := range []byte(lower) {
		expanded = append(expanded, c&31)
	}
	expanded = append(expanded, values...)
	expanded = append(expanded, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(expanded) ^ 1
	var b strings.Builder
	b.WriteString(lower + "1")
	for _, v := range values {
		b.WriteByte(charset[v])
	}
	for i := range 6 {
		b.WriteByte(charset[(mod>>(5*(5-i)))&31])
	}
	return strings.ToUpper(b.String()), nil
}

func bech32Polymod(values []byte) uint32 {
	generator := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i, g := range generator {
			if (top>>i)&1 == 1 {
				chk ^= g
			}
		}
	}
	return chk
}

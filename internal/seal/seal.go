// Package seal encrypts fedid's secrets at rest (signing keys' private key
// material, access key secrets, issued credentials' secrets) with a master
// key, AES-256-GCM from the standard library.
//
// A sealed value is self-describing text, so that it fits the existing
// TEXT and BYTEA columns without a migration and a store can hold plaintext
// and sealed values side by side while it is being sealed:
//
//	sealed:v1:<key ID>:<base64url(nonce || ciphertext || tag)>
//
// The key ID (the first 8 bytes of the key's SHA-256, hex) says which
// master key opens the value, so that a wrong or missing key is reported by
// the ID of the one needed. The caller passes the row's identity ("table/
// primary key") as associated data: a sealed value copied to another row
// does not open there.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// prefix starts every sealed value. Plaintext secrets never start with it:
// access key secrets are 40 characters of the base64 alphabet and private
// keys are DER, which starts with 0x30.
const prefix = "sealed:v1:"

// KeySize is the master key's length in bytes (AES-256).
const KeySize = 32

// Key is a master key. Its String and GoString print the ID only.
type Key struct {
	id   string
	aead cipher.AEAD
}

// New makes a Key of 32 raw bytes.
func New(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &Key{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// Parse reads a master key in its file form: 32 bytes in standard base64,
// surrounding white space ignored. Errors never quote the input.
func Parse(text []byte) (*Key, error) {
	s := string(bytes.TrimSpace(text))
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("master key is not base64")
	}
	return New(raw)
}

// ReadFile reads a master key file (see Parse).
func ReadFile(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	k, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

// Generate returns a new random master key in its file form, with a
// trailing newline.
func Generate() (string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw) + "\n", nil
}

// ID identifies the key without revealing it. A nil Key has ID "".
func (k *Key) ID() string {
	if k == nil {
		return ""
	}
	return k.id
}

// String prints the ID only, so that a Key in a log line leaks nothing.
func (k *Key) String() string { return "seal.Key{" + k.ID() + "}" }

// GoString is String, for %#v.
func (k *Key) GoString() string { return k.String() }

// Seal encrypts plain for the row ad. A nil Key returns plain as is: the
// store then keeps plaintext, as it did before master keys.
func (k *Key) Seal(plain []byte, ad string) []byte {
	if k == nil {
		return plain
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+
		// crashes the program rather than return an error).
		panic(err)
	}
	sealed := k.aead.Seal(nonce, nonce, plain, []byte(ad))
	out := make([]byte, 0, len(prefix)+len(k.id)+1+base64.RawURLEncoding.EncodedLen(len(sealed)))
	out = append(out, prefix...)
	out = append(out, k.id...)
	out = append(out, ':')
	return base64.RawURLEncoding.AppendEncode(out, sealed)
}

// SealString is Seal for text columns.
func (k *Key) SealString(plain, ad string) string { return string(k.Seal([]byte(plain), ad)) }

// IsSealed reports whether a stored value is sealed.
func IsSealed(stored []byte) bool { return bytes.HasPrefix(stored, []byte(prefix)) }

// KeyID returns the ID of the key that sealed a stored value, "" when the
// value is plaintext.
func KeyID(stored []byte) string {
	if !IsSealed(stored) {
		return ""
	}
	id, _, _ := strings.Cut(string(stored[len(prefix):]), ":")
	return id
}

// NeedKeyError is the error of a sealed value opened without its key.
type NeedKeyError struct {
	// Need is the ID of the key the value is sealed with; Have the ID of
	// the key given ("" for none).
	Need, Have string
}

func (e *NeedKeyError) Error() string {
	msg := "the store's secrets are sealed with master key " + e.Need + "; give it with --master-key-file (env FEDID_MASTER_KEY_FILE)"
	if e.Have != "" {
		msg += " (the key given is " + e.Have + ")"
	}
	return msg
}

// Open returns the plaintext of a stored value of row ad. Plaintext
// values are returned as they are, so that a store sealed while running
// (or never sealed) reads. A value sealed with another key is a
// *NeedKeyError; one that does not authenticate (tampered, or moved from
// another row) an error that names the row but no content.
func (k *Key) Open(stored []byte, ad string) ([]byte, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	rest := stored[len(prefix):]
	i := bytes.IndexByte(rest, ':')
	if i < 0 {
		return nil, fmt.Errorf("sealed value of %s is malformed", ad)
	}
	if id := string(rest[:i]); k == nil || id != k.id {
		return nil, &NeedKeyError{Need: id, Have: k.ID()}
	}
	sealed, err := base64.RawURLEncoding.AppendDecode(nil, rest[i+1:])
	if err != nil || len(sealed) < k.aead.NonceSize() {
		return nil, fmt.Errorf("sealed value of %s is malformed", ad)
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("sealed value of %s does not authenticate with master key %s (altered, or copied from another row)", ad, k.id)
	}
	return plain, nil
}

// OpenString is Open for text columns.
func (k *Key) OpenString(stored, ad string) (string, error) {
	b, err := k.Open([]byte(stored), ad)
	return string(b), err
}

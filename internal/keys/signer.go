package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"
)

// signer makes an RS512 signature (RSASSA-PKCS1-v1_5 over a SHA-512
// digest) with one private key. Implementations are safe for concurrent use
// and take no lock: signing scales on every core.
type signer interface {
	sign(digest []byte) ([]byte, error)
}

// goSigner signs with Go's crypto/rsa.
type goSigner struct{ key *rsa.PrivateKey }

func (s goSigner) sign(digest []byte) ([]byte, error) {
	return rsa.SignPKCS1v15(nil, s.key, crypto.SHA512, digest)
}

// libcrypto names tried in order.
var libcryptoNames = []string{"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"}

var (
	backendOnce sync.Once
	useOpenSSL  bool
	backendName string
	forceGo     bool
)

// UseSigner chooses the RS512 implementation, before the first key is
// loaded: "" or "openssl" for libcrypto when it loads (crypto/rsa
// otherwise), "go" for crypto/rsa. "openssl-cgo" is still accepted and
// means "openssl": it once chose ordinary cgo calls over a direct call
// into libcrypto that no longer exists. cmd/fedid calls it with
// --signer (FEDID_SIGNER).
func UseSigner(name string) error {
	switch name {
	case "", "openssl", "openssl-cgo":
		forceGo = false
	case "go":
		forceGo = true
	default:
		return fmt.Errorf("keys: signer %q: want openssl or go", name)
	}
	return nil
}

// initBackend loads libcrypto once, unless UseSigner("go").
func initBackend() {
	backendOnce.Do(func() {
		backendName = "crypto/rsa"
		if forceGo {
			return
		}
		if v, ok := openOpenSSL(libcryptoNames); ok {
			useOpenSSL = true
			backendName = v
		}
	})
}

// Backend names the RS512 implementation in use: the OpenSSL version text,
// or "crypto/rsa" when libcrypto could not be loaded or FEDID_SIGNER=go.
func Backend() string {
	initBackend()
	return backendName
}

// newSigner converts a key once into the fastest available signer.
func newSigner(key *rsa.PrivateKey, forceGo bool) (signer, error) {
	initBackend()
	if !useOpenSSL || forceGo {
		return goSigner{key}, nil
	}
	if len(key.Primes) != 2 {
		return goSigner{key}, nil
	}
	s, err := newOSSLSigner(key)
	if err != nil {
		return nil, fmt.Errorf("keys: load key into OpenSSL: %w", err)
	}
	return s, nil
}

// generateKey makes a new RSA key of the given size.
func generateKey(bits int) (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, bits)
}

// RawSigner returns a function making bare RS512 signatures with a fresh
// RSA-2048 key and the backend fedid uses (crypto/rsa when forceGo), for
// measuring the cost of the signature alone.
func RawSigner(forceGo bool) (func(digest []byte) ([]byte, error), string, error) {
	k, err := generateKey(2048)
	if err != nil {
		return nil, "", err
	}
	s, err := newSigner(k, forceGo)
	if err != nil {
		return nil, "", err
	}
	name := Backend()
	if _, ok := s.(goSigner); ok {
		name = "crypto/rsa"
	}
	return s.sign, name, nil
}

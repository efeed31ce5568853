//go:build cgo && (linux || darwin || freebsd)

package keys

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"fmt"
	"sync"
	"testing"
)

// osslOrSkip returns an OpenSSL signer for a new key, or skips the test
// when fedid signs with crypto/rsa here (no cgo, no libcrypto or
// FEDID_SIGNER=go).
func osslOrSkip(t *testing.T, bits int) (signer, *rsa.PrivateKey) {
	t.Helper()
	k, err := generateKey(bits)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSigner(k, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*osslSigner); !ok {
		t.Skipf("signing with %s, not OpenSSL", Backend())
	}
	return s, k
}

// TestOpenSSLConcurrent signs from many goroutines at once with two keys,
// so that signatures of both keys share batches, and holds every signature
// to crypto/rsa's (RSASSA-PKCS1-v1_5 is deterministic: the bytes must be
// equal, not just verify). With one call at a time every signature but a
// few waits in the queue: full batches, leaders going on with further
// batches and handing the lead on.
func TestOpenSSLConcurrent(t *testing.T) {
	for _, calls := range []int{1, maxSigning} {
		t.Run(fmt.Sprintf("calls=%d", calls), func(t *testing.T) {
			defer func(n int) { maxSigning = n }(maxSigning)
			maxSigning = calls
			testOpenSSLConcurrent(t)
		})
	}
}

func testOpenSSLConcurrent(t *testing.T) {
	type keyed struct {
		s signer
		k *rsa.PrivateKey
	}
	var ks []keyed
	for _, bits := range []int{2048, 1024} {
		s, k := osslOrSkip(t, bits)
		ks = append(ks, keyed{s, k})
	}
	const goroutines, each = 3 * maxBatch, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kk := ks[g%len(ks)]
			for i := range each {
				digest := sha512.Sum512(fmt.Appendf(nil, "token %d/%d", g, i))
				sig, err := kk.s.sign(digest[:])
				if err != nil {
					errs <- err
					return
				}
				if err := rsa.VerifyPKCS1v15(&kk.k.PublicKey, crypto.SHA512, digest[:], sig); err != nil {
					errs <- fmt.Errorf("goroutine %d signature %d does not verify: %w", g, i, err)
					return
				}
				want, _ := goSigner{kk.k}.sign(digest[:])
				if !bytes.Equal(sig, want) {
					errs <- fmt.Errorf("goroutine %d signature %d differs from crypto/rsa's", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOpenSSLDigestLength: only a SHA-512 digest is signed; anything else
// is an error, not a signature over the wrong DigestInfo, and the signer
// goes on working afterwards.
func TestOpenSSLDigestLength(t *testing.T) {
	s, k := osslOrSkip(t, 2048)
	for _, n := range []int{0, 32, 63, 65} {
		if sig, err := s.sign(make([]byte, n)); err == nil {
			t.Errorf("%d-byte digest signed: %x", n, sig)
		}
	}
	digest := sha512.Sum512([]byte("after"))
	sig, err := s.sign(digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA512, digest[:], sig); err != nil {
		t.Fatal(err)
	}
}

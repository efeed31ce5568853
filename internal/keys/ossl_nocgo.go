//go:build !(cgo && (linux || darwin || freebsd))

package keys

import (
	"crypto/rsa"
	"errors"
)

// Without cgo fedid signs with crypto/rsa only.

func openOpenSSL([]string) (string, bool) { return "", false }

type osslSigner struct{}

func newOSSLSigner(*rsa.PrivateKey) (*osslSigner, error) {
	return nil, errors.New("keys: built without cgo")
}

func (*osslSigner) sign([]byte) ([]byte, error) {
	return nil, errors.New("keys: built without cgo")
}

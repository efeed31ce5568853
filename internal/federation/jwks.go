package federation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// keySet is a parsed JWKS.
type keySet struct {
	keys    map[string]crypto.PublicKey // by kid ("" for keys without one)
	fetched time.Time
}

type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS reads a JWKS document; keys it cannot use are skipped.
func parseJWKS(b []byte) (*keySet, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	ks := &keySet{keys: map[string]crypto.PublicKey{}}
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if pk := k.publicKey(); pk != nil {
			ks.keys[k.Kid] = pk
		}
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("JWKS holds no usable signing key")
	}
	return ks, nil
}

// b64 decodes base64url, tolerating padding and the standard alphabet
// (some providers publish those).
func b64(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.URLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func (k jwkJSON) publicKey() crypto.PublicKey {
	switch k.Kty {
	case "RSA":
		n, err1 := b64(k.N)
		e, err2 := b64(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
		if pub.N.BitLen() < 2048 {
			return nil
		}
		return pub
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil
		}
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil {
			return nil
		}
		pub := &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		if !curve.IsOnCurve(pub.X, pub.Y) {
			return nil
		}
		return pub
	}
	return nil
}

// find returns the key a token names, or the only key when the token
// names none.
func (ks *keySet) find(kid string) (crypto.PublicKey, bool) {
	if k, ok := ks.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(ks.keys) == 1 {
		for _, k := range ks.keys {
			return k, true
		}
	}
	return nil, false
}

// fetcher fetches documents over HTTP with a timeout and caches JWKS per
// URL and discovery documents per issuer.
type fetcher struct {
	client *http.Client
	// ttl is how long a key set is used before it is fetched again.
	ttl time.Duration
	// minRefresh limits refetches on an unknown kid.
	minRefresh time.Duration

	mu       sync.Mutex
	jwks     map[string]*keySet
	jwksURIs map[string]string
}

func newFetcher(timeout time.Duration) *fetcher {
	return &fetcher{
		client:     &http.Client{Timeout: timeout},
		ttl:        time.Hour,
		minRefresh: 5 * time.Second,
		jwks:       map[string]*keySet{},
		jwksURIs:   map[string]string{},
	}
}

// errUnreachable marks a provider that did not answer properly.
type errUnreachable struct{ err error }

func (e errUnreachable) Error() string { return e.err.Error() }
func (e errUnreachable) Unwrap() error { return e.err }

func (f *fetcher) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errUnreachable{err}
	}
	req.Header.Set("Accept", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, errUnreachable{err}
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, errUnreachable{fmt.Errorf("GET %s: HTTP %d", url, res.StatusCode)}
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, errUnreachable{err}
	}
	return b, nil
}

// discoverJWKS returns the jwks_uri of an issuer's discovery document.
func (f *fetcher) discoverJWKS(ctx context.Context, issuer string) (string, error) {
	f.mu.Lock()
	u, ok := f.jwksURIs[issuer]
	f.mu.Unlock()
	if ok {
		return u, nil
	}
	b, err := f.get(ctx, issuer+"/.well-known/openid-configuration")
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.JWKSURI == "" {
		return "", errUnreachable{fmt.Errorf("discovery document of %s has no jwks_uri", issuer)}
	}
	f.mu.Lock()
	f.jwksURIs[issuer] = doc.JWKSURI
	f.mu.Unlock()
	return doc.JWKSURI, nil
}

// key returns the public key kid from the JWKS at url, fetching the set
// when it is not cached, stale, or lacks kid (at most every minRefresh).
func (f *fetcher) key(ctx context.Context, url, kid string) (crypto.PublicKey, error) {
	now := time.Now()
	f.mu.Lock()
	ks := f.jwks[url]
	f.mu.Unlock()
	if ks != nil && now.Sub(ks.fetched) < f.ttl {
		if k, ok := ks.find(kid); ok {
			return k, nil
		}
		if now.Sub(ks.fetched) < f.minRefresh {
			return nil, errUnknownKey
		}
	}
	b, err := f.get(ctx, url)
	if err != nil {
		if ks != nil { // keep serving a stale set while the provider is down
			if k, ok := ks.find(kid); ok {
				return k, nil
			}
		}
		return nil, err
	}
	fresh, err := parseJWKS(b)
	if err != nil {
		return nil, errUnreachable{err}
	}
	fresh.fetched = now
	f.mu.Lock()
	f.jwks[url] = fresh
	f.mu.Unlock()
	if k, ok := fresh.find(kid); ok {
		return k, nil
	}
	return nil, errUnknownKey
}

var errUnknownKey = errors.New("token key is not in the provider's key set")

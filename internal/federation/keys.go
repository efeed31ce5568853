package federation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// maxDocument bounds a discovery document or key set: go-oidc reads bodies
// whole, and a provider is not trusted to keep them small.
const maxDocument = 1 << 20

// errUnreachable marks a provider that did not answer properly (network
// error, timeout, HTTP status other than 200, a body that is not a key
// set): the caller answers ExternalServiceException, not an invalid token.
type errUnreachable struct{ err error }

func (e errUnreachable) Error() string { return e.err.Error() }
func (e errUnreachable) Unwrap() error { return e.err }

// unreachable reports whether a key set or discovery error is the
// provider's fault rather than the token's. go-oidc wraps fetch errors with
// %w, so the transport's errUnreachable, the client's *url.Error and the
// context's deadline are still visible here.
func unreachable(err error) bool {
	var ur errUnreachable
	var ue *url.Error
	return errors.As(err, &ur) || errors.As(err, &ue) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// keyCache holds one oidc.RemoteKeySet per JWKS URL and the jwks_uri of
// each discovered issuer, for the life of the Checker.
type keyCache struct {
	client     *http.Client
	minRefresh time.Duration

	mu       sync.Mutex
	sets     map[string]*remoteKeys
	jwksURIs map[string]string
}

func newKeyCache(timeout, minRefresh time.Duration) *keyCache {
	return &keyCache{
		client:     &http.Client{Timeout: timeout},
		minRefresh: minRefresh,
		sets:       map[string]*remoteKeys{},
		jwksURIs:   map[string]string{},
	}
}

// discover returns the jwks_uri of an issuer's discovery document, fetched
// once with the client in ctx.
//
// The document's own issuer is not compared with the URL it was fetched
// from (oidc.InsecureIssuerURLContext): fedid never did, a provider's
// tokens may carry either the URL or the bare host form as iss, and the
// token's iss is checked against the provider's configuration anyway.
func (kc *keyCache) discover(ctx context.Context, issuer string) (string, error) {
	kc.mu.Lock()
	u, ok := kc.jwksURIs[issuer]
	kc.mu.Unlock()
	if ok {
		return u, nil
	}
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(oidc.ClientContext(ctx, kc.clientFor(nil)), issuer), issuer)
	if err != nil {
		return "", errUnreachable{fmt.Errorf("discover %s: %w", issuer, err)}
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKSURI == "" {
		return "", errUnreachable{fmt.Errorf("discovery document of %s has no jwks_uri", issuer)}
	}
	kc.mu.Lock()
	kc.jwksURIs[issuer] = doc.JWKSURI
	kc.mu.Unlock()
	return doc.JWKSURI, nil
}

// remote returns the key set of a JWKS URL, made on first use.
func (kc *keyCache) remote(jwksURL string) *remoteKeys {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if rk, ok := kc.sets[jwksURL]; ok {
		return rk
	}
	rk := &remoteKeys{minRefresh: kc.minRefresh}
	// RemoteKeySet fetches in a goroutine of its own with the context it was
	// made with (its cancellation ignored): the client, hence the provider
	// timeout, goes there; each verification still stops waiting at its own
	// context's deadline.
	client := kc.clientFor(rk)
	rk.newSet = func() *oidc.RemoteKeySet {
		return oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), jwksURL)
	}
	rk.set = rk.newSet()
	kc.sets[jwksURL] = rk
	return rk
}

// clientFor returns the HTTP client for fetches: the provider timeout, and a
// transport that refuses bad answers and tells rk about every key set it
// fetched.
func (kc *keyCache) clientFor(rk *remoteKeys) *http.Client {
	c := *kc.client
	c.Transport = &checkingTransport{base: http.DefaultTransport, rk: rk}
	return &c
}

// checkingTransport turns a provider's bad answers into errUnreachable
// (go-oidc reports a non-200 status or an undecodable body with %v, which
// would make them look like bad tokens) and bounds the body size.
type checkingTransport struct {
	base http.RoundTripper
	rk   *remoteKeys // nil for discovery
}

func (t *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, errUnreachable{err}
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, errUnreachable{fmt.Errorf("GET %s: HTTP %d", req.URL, res.StatusCode)}
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxDocument+1))
	if err != nil {
		return nil, errUnreachable{err}
	}
	if len(b) > maxDocument {
		return nil, errUnreachable{fmt.Errorf("GET %s: more than %d bytes", req.URL, maxDocument)}
	}
	if t.rk != nil {
		keys, err := publicKeys(b)
		if err != nil {
			return nil, errUnreachable{fmt.Errorf("GET %s: %w", req.URL, err)}
		}
		t.rk.fetched(keys)
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	res.ContentLength = int64(len(b))
	return res, nil
}

// remoteKeys is an oidc.KeySet over an oidc.RemoteKeySet, which fetches
// the key set, with fedid's policy on top:
//
//   - signatures are checked against the keys of the last fetch as fedid
//     filtered them (signing keys only, RSA of 2048 bits or more), never
//     against every key RemoteKeySet would accept;
//   - RemoteKeySet refetches whenever no cached key verifies a token: that
//     picks up a provider's key rotation at once, but would let every forged
//     token (an invented kid, or a bad signature under a known one) cost a
//     request to the provider, so for minRefresh after a fetch no token
//     makes it fetch;
//   - keys older than maxKeyAge are fetched again (a key the provider
//     withdrew stops being accepted within that time); while the provider
//     does not answer, the keys held go on serving.
type remoteKeys struct {
	minRefresh time.Duration
	newSet     func() *oidc.RemoteKeySet

	mu   sync.Mutex
	set  *oidc.RemoteKeySet
	at   time.Time // of the last successful fetch; wall time, not fedid.Clock
	keys []crypto.PublicKey
}

// maxKeyAge is how long a fetched key set is used before it is fetched
// again.
const maxKeyAge = time.Hour

func (rk *remoteKeys) fetched(keys []crypto.PublicKey) {
	rk.mu.Lock()
	rk.at, rk.keys = time.Now(), keys
	rk.mu.Unlock()
}

// VerifySignature implements oidc.KeySet.
func (rk *remoteKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	rk.mu.Lock()
	age, keys, set := time.Since(rk.at), rk.keys, rk.set
	stale := keys != nil && age >= maxKeyAge
	if stale {
		// A new RemoteKeySet has no keys: it fetches at once.
		rk.set = rk.newSet()
		set = rk.set
	}
	rk.mu.Unlock()
	held := &oidc.StaticKeySet{PublicKeys: keys}
	if keys != nil && !stale {
		payload, err := held.VerifySignature(ctx, jwt)
		if err == nil || age < rk.minRefresh {
			return payload, err
		}
	}
	// An unknown key, or keys too old: fetch (the transport hands the
	// filtered keys to fetched), then check against what was fetched.
	if _, err := set.VerifySignature(ctx, jwt); err != nil && unreachable(err) {
		if stale {
			return held.VerifySignature(ctx, jwt)
		}
		return nil, err
	}
	rk.mu.Lock()
	keys = rk.keys
	rk.mu.Unlock()
	return (&oidc.StaticKeySet{PublicKeys: keys}).VerifySignature(ctx, jwt)
}

// keptResult is an oidc.KeySet that keeps the result of the key set it
// wraps: IDTokenVerifier reports a key set's error with %v, and whether the
// provider was unreachable must survive. One per verification.
type keptResult struct {
	oidc.KeySet
	payload []byte
	err     error
}

func (k *keptResult) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.payload, k.err = k.KeySet.VerifySignature(ctx, jwt)
	return k.payload, k.err
}

// parseJWKS reads the public keys of a JWKS document with go-jose. Keys
// go-jose cannot read (other key types, private members) are skipped, as
// go-oidc does; a document without a keys array is an error.
func parseJWKS(doc []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil || set.Keys == nil {
		return nil, errors.New("not a JWKS document")
	}
	var out []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err == nil && k.Valid() && k.IsPublic() {
			out = append(out, k)
		}
	}
	return out, nil
}

// publicKeys are the keys of a fetched JWKS that may sign tokens, for
// oidc.StaticKeySet: keys marked for another use than "sig", and RSA keys
// under 2048 bits, are left out.
func publicKeys(doc []byte) ([]crypto.PublicKey, error) {
	keys, err := parseJWKS(doc)
	out := make([]crypto.PublicKey, 0, len(keys))
	for _, k := range keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
			continue
		}
		out = append(out, k.Key)
	}
	return out, err
}

// pinnedKeys returns the keys of a pinned JWKS that may have signed a token
// naming kid: the signing key with that kid, or the only one when the token
// names none (fedid's rule before go-oidc; StaticKeySet alone would try
// every key).
func pinnedKeys(doc []byte, kid string) ([]crypto.PublicKey, error) {
	keys, err := parseJWKS(doc)
	if err != nil {
		return nil, err
	}
	keys = slices.DeleteFunc(keys, func(k jose.JSONWebKey) bool { return k.Use != "" && k.Use != "sig" })
	var out []crypto.PublicKey
	for _, k := range keys {
		if k.KeyID == kid || (kid == "" && len(keys) == 1) {
			out = append(out, k.Key)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("token key is not in the pinned key set")
	}
	return out, nil
}

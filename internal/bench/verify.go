package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
)

// jwksCache verifies fedid tokens against the endpoint's published keys,
// independently of fedid's own code.
type jwksCache struct {
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func (j *jwksCache) load(ctx context.Context, c *http.Client, endpoint string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/.well-known/jwks_uri", nil)
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	j.mu.Lock()
	j.keys = keys
	j.mu.Unlock()
	return nil
}

func (j *jwksCache) verify(ctx context.Context, c *http.Client, endpoint, token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return err
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS512" {
		return errors.New("not RS512")
	}
	j.mu.Lock()
	k := j.keys[h.Kid]
	j.mu.Unlock()
	if k == nil {
		if err := j.load(ctx, c, endpoint); err != nil {
			return err
		}
		j.mu.Lock()
		k = j.keys[h.Kid]
		j.mu.Unlock()
		if k == nil {
			return errors.New("kid not published")
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	d := sha512.Sum512([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(k, crypto.SHA512, d[:], sig)
}

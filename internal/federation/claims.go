package federation

import (
	"bytes"
	"encoding/json"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

// algorithms are the JWS algorithms accepted for provider tokens: RSA and
// ECDSA signatures only, never none or HMAC (an HMAC key would be the
// provider's public key, known to anyone).
var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
}

// algorithmNames are the same, for oidc.Config.
var algorithmNames = func() []string {
	out := make([]string, len(algorithms))
	for i, a := range algorithms {
		out[i] = string(a)
	}
	return out
}()

// otherAlgorithms are the algorithms go-jose parses that fedid refuses:
// knowing them lets the error name the algorithm, as fedid always did.
var otherAlgorithms = []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512, jose.EdDSA, "none"}

// otherAlgorithm returns the alg of a compact JWS signed with a refused
// algorithm, or "" when the token is not one.
func otherAlgorithm(token string) string {
	jws, err := jose.ParseSignedCompact(token, otherAlgorithms)
	if err != nil {
		return ""
	}
	return string(jws.Signatures[0].Header.Algorithm)
}

// claims are a token's claims, numbers kept as json.Number.
type claims struct {
	m   map[string]any
	raw []byte
}

var errNotClaims = errors.New("token payload is not a JSON object")

func parseClaims(payload []byte) (*claims, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errNotClaims
	}
	return &claims{m: m, raw: payload}, nil
}

// str returns a string claim.
func (c *claims) str(name string) (string, bool) {
	v, ok := c.m[name].(string)
	return v, ok
}

// num returns a numeric claim as seconds.
func (c *claims) num(name string) (int64, bool) {
	v, ok := c.m[name].(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := v.Int64(); err == nil {
		return i, true
	}
	if f, err := v.Float64(); err == nil {
		return int64(f), true
	}
	return 0, false
}

// audiences returns the aud claim as a list (it may be a string or an
// array).
func (c *claims) audiences() []string {
	switch v := c.m["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// plain returns the claims as plain Go values (numbers as float64), the
// form role rules and principal tags read.
func (c *claims) plain() map[string]any {
	var out map[string]any
	_ = json.Unmarshal(c.raw, &out)
	return out
}

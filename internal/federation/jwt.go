package federation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// jwtHeader is the part of a JOSE header the checker reads.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// parsedJWT is a compact JWS split into its parts.
type parsedJWT struct {
	header  jwtHeader
	claims  map[string]any
	signed  string // header.payload, the signing input
	sig     []byte
	rawBody []byte
}

var errNotJWT = errors.New("not a JWT")

// parseJWT splits and decodes a compact JWS without checking it.
func parseJWT(tok string) (*parsedJWT, error) {
	h, rest, ok1 := strings.Cut(tok, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, errNotJWT
	}
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, errNotJWT
	}
	pb, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, errNotJWT
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errNotJWT
	}
	var j parsedJWT
	if err := json.Unmarshal(hb, &j.header); err != nil {
		return nil, errNotJWT
	}
	dec := json.NewDecoder(strings.NewReader(string(pb)))
	dec.UseNumber()
	if err := dec.Decode(&j.claims); err != nil || j.claims == nil {
		return nil, errNotJWT
	}
	j.signed = h + "." + p
	j.sig = sig
	j.rawBody = pb
	return &j, nil
}

// algorithms are the JWS algorithms accepted for provider tokens.
var algorithms = map[string]crypto.Hash{
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
	"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
}

func digest(h crypto.Hash, data string) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(data))
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(data))
		return d[:]
	default:
		d := sha512.Sum512([]byte(data))
		return d[:]
	}
}

// verifySignature checks the JWS signature with a public key.
func (j *parsedJWT) verifySignature(key crypto.PublicKey) error {
	h, ok := algorithms[j.header.Alg]
	if !ok {
		return fmt.Errorf("algorithm %q is not accepted", j.header.Alg)
	}
	d := digest(h, j.signed)
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch j.header.Alg[:2] {
		case "RS":
			return rsa.VerifyPKCS1v15(k, h, d, j.sig)
		case "PS":
			return rsa.VerifyPSS(k, h, d, j.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
	case *ecdsa.PublicKey:
		if j.header.Alg[:2] != "ES" {
			break
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(j.sig) != 2*size {
			return errors.New("bad ECDSA signature length")
		}
		r := new(big.Int).SetBytes(j.sig[:size])
		s := new(big.Int).SetBytes(j.sig[size:])
		if !ecdsa.Verify(k, d, r, s) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("key type %T does not fit algorithm %s", key, j.header.Alg)
}

// str returns a string claim.
func (j *parsedJWT) str(name string) (string, bool) {
	v, ok := j.claims[name].(string)
	return v, ok
}

// num returns a numeric claim as seconds.
func (j *parsedJWT) num(name string) (int64, bool) {
	switch v := j.claims[name].(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil {
			return int64(f), true
		}
	}
	return 0, false
}

// audiences returns the aud claim as a list (it may be a string or an
// array).
func (j *parsedJWT) audiences() []string {
	switch v := j.claims["aud"].(type) {
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

// plainClaims converts the claims to plain Go values (json.Number to
// float64 or int64 as a string would show them) for role rules and tags.
func (j *parsedJWT) plainClaims() map[string]any {
	var out map[string]any
	_ = json.Unmarshal(j.rawBody, &out)
	return out
}

package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fedid/fedid"
)

// The JWS side: minting fedid's RS512 tokens, checking them, and the
// published key set.

// Mint signs claims as a compact RS512 JWS with the current key (spec 5).
func (m *Manager) Mint(c *fedid.Claims) (string, error) {
	st := m.state.Load()
	if st == nil {
		return "", errors.New("keys: mint before init")
	}
	payload := appendClaims(make([]byte, 0, 512), c)
	k := st.current
	n := len(k.header) + base64.RawURLEncoding.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+base64.RawURLEncoding.EncodedLen(256))
	buf = append(buf, k.header...)
	buf = base64.RawURLEncoding.AppendEncode(buf, payload)
	digest := sha512.Sum512(buf)
	began := time.Now()
	sig, err := k.signer.sign(digest[:])
	if m.opts.ObserveSign != nil {
		m.opts.ObserveSign(time.Since(began))
	}
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	buf = append(buf, '.')
	buf = base64.RawURLEncoding.AppendEncode(buf, sig)
	return string(buf), nil
}

// appendClaims writes the payload in the fixed order the real service uses:
// sub, aud, amr, tags, iss, identity-pool-arn, exp, iat.
func appendClaims(b []byte, c *fedid.Claims) []byte {
	b = append(b, `{"sub":`...)
	b = appendString(b, c.Subject)
	b = append(b, `,"aud":`...)
	b = appendString(b, c.Audience)
	b = append(b, `,"amr":[`...)
	for i, a := range c.AMR {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
	}
	b = append(b, ']')
	if len(c.PrincipalTags) > 0 {
		keys := make([]string, 0, len(c.PrincipalTags))
		for k := range c.PrincipalTags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, `,"https://aws.amazon.com/tags":{"principal_tags":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ":["...)
			b = appendString(b, c.PrincipalTags[k])
			b = append(b, ']')
		}
		b = append(b, "}}"...)
	}
	b = append(b, `,"iss":`...)
	b = appendString(b, c.Issuer)
	b = append(b, `,"https://cognito-identity.amazonaws.com/identity-pool-arn":`...)
	b = appendString(b, c.PoolARN)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		// Runs that need no escaping, the whole string as a rule, are
		// copied at once.
		j := i
		for j < len(s) && plainJSON[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					b = append(b, '\\', 'n')
				case '\r':
					b = append(b, '\\', 'r')
				case '\t':
					b = append(b, '\\', 't')
				default:
					b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				}
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := decodeRune(s[i:])
		if r == 0xFFFD && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func quote(s string) string { return string(appendString(nil, s)) }

// plainJSON marks the bytes a JSON string holds as they are: ASCII from
// space up, but for '"' and '\\'.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// reloadFor re-reads the keys when a token names an unknown kid, at most
// once a second (unknown kids are also what forged tokens carry).
func (m *Manager) reloadFor(kid string) (*rsa.PublicKey, bool) {
	now := time.Now().UnixNano()
	last := m.lastMiss.Load()
	if now-last < int64(time.Second) || !m.lastMiss.CompareAndSwap(last, now) {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := m.Reload(ctx); err != nil {
		m.opts.Logger.Warn("signing keys: reload for unknown kid failed", "err", err)
		return nil, false
	}
	pub, ok := m.state.Load().public[kid]
	return pub, ok
}

// CheckToken checks a token fedid issued: its form, RS512, a published kid and
// the signature. The caller checks issuer, audience, subject and expiry.
func (m *Manager) CheckToken(token string) (*fedid.Claims, error) {
	st := m.state.Load()
	if st == nil {
		return nil, errors.New("keys: verify before init")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, errors.New("keys: token is not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, errors.New("keys: token header is not base64url")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, errors.New("keys: token header is not JSON")
	}
	if hdr.Alg != "RS512" {
		return nil, fmt.Errorf("keys: token algorithm %q is not RS512", hdr.Alg)
	}
	pub, ok := st.public[hdr.Kid]
	if !ok {
		// Another instance may have published a key this one has not
		// loaded yet.
		if pub, ok = m.reloadFor(hdr.Kid); !ok {
			return nil, fmt.Errorf("keys: token key %q is not published", hdr.Kid)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("keys: token signature is not base64url")
	}
	digest := sha512.Sum512([]byte(token[:len(h)+1+len(p)]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA512, digest[:], sig); err != nil {
		return nil, errors.New("keys: token signature does not verify")
	}
	pb, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, errors.New("keys: token payload is not base64url")
	}
	var raw struct {
		Sub  string   `json:"sub"`
		Aud  string   `json:"aud"`
		AMR  []string `json:"amr"`
		Tags *struct {
			PrincipalTags map[string][]string `json:"principal_tags"`
		} `json:"https://aws.amazon.com/tags"`
		Iss     string `json:"iss"`
		PoolARN string `json:"https://cognito-identity.amazonaws.com/identity-pool-arn"`
		Exp     int64  `json:"exp"`
		Iat     int64  `json:"iat"`
	}
	dec := json.NewDecoder(bytes.NewReader(pb))
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.New("keys: token payload is not valid claims")
	}
	c := &fedid.Claims{Subject: raw.Sub, Audience: raw.Aud, AMR: raw.AMR, Issuer: raw.Iss, PoolARN: raw.PoolARN,
		IssuedAt: time.Unix(raw.Iat, 0).UTC(), ExpiresAt: time.Unix(raw.Exp, 0).UTC()}
	if raw.Tags != nil && len(raw.Tags.PrincipalTags) > 0 {
		c.PrincipalTags = make(map[string]string, len(raw.Tags.PrincipalTags))
		for k, v := range raw.Tags.PrincipalTags {
			if len(v) > 0 {
				c.PrincipalTags[k] = v[0]
			}
		}
	}
	return c, nil
}

// jwk is one RSA public key in the JWKS (RFC 7517/7518: n and e unpadded
// base64url without leading zero octets).
type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS returns the published key set as JSON: the current key and every
// retired key that may still have signed an unexpired token.
func (m *Manager) JWKS() []byte {
	if st := m.state.Load(); st != nil {
		return st.jwks
	}
	return []byte(`{"keys":[]}`)
}

// MaxAge is how long clients may cache the JWKS: until the next scheduled
// rotation, at most an hour, at least a minute. fedid does not publish keys
// ahead of use, so a verifier holding a stale set must come back soon after
// a rotation.
func (m *Manager) MaxAge() time.Duration {
	st := m.state.Load()
	if st == nil {
		return time.Minute
	}
	d := st.rotateAt.Sub(m.clock.Now())
	return min(max(d, time.Minute), time.Hour)
}

// decodeRune is utf8.DecodeRuneInString, kept behind a name so the JSON
// writer reads as one loop.
func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

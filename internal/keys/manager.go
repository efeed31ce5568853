// Package keys holds fedid's token signing keys: RSA-2048 keys generated
// on first start and stored in the database, rotation shared safely by
// every instance on that database (dex's updater pattern), RS512 signing
// through OpenSSL or crypto/rsa, verification of fedid's own tokens, and
// the JWKS.
package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fedid/fedid"
)

// Defaults of Options.
const (
	// DefaultRotationPeriod is how long a key signs before a new one takes
	// over.
	DefaultRotationPeriod = 30 * 24 * time.Hour
	// DefaultMaxTokenLifetime is the longest lifetime of any token fedid
	// mints (GetOpenIdTokenForDeveloperIdentity allows 86,400 s): a retired
	// key stays published this long.
	DefaultMaxTokenLifetime = 24 * time.Hour
	// DefaultReloadEvery is how often Run re-reads the keys so that a
	// rotation done by another instance is picked up.
	DefaultReloadEvery = time.Minute
)

// KeyStore is the part of fedid.Store the manager needs.
type KeyStore interface {
	SigningKeys(ctx context.Context) ([]fedid.SigningKey, error)
	UpdateSigningKeys(ctx context.Context, fn func([]fedid.SigningKey) ([]fedid.SigningKey, error)) error
}

// Options configure a Manager.
type Options struct {
	// Region prefixes key IDs: "<region>-<seq>".
	Region           string
	RotationPeriod   time.Duration
	MaxTokenLifetime time.Duration
	Bits             int
	// ReloadEvery is how often Run re-reads the stored keys.
	ReloadEvery time.Duration
	// PublishLead is how long a new key is published before it signs, so
	// that every instance sharing the database (each reloading every
	// ReloadEvery) and every verifier serves it before the first token it
	// signs exists. Default: twice ReloadEvery plus 10 s.
	PublishLead time.Duration
	// ForceGo signs with crypto/rsa even when OpenSSL is available.
	ForceGo bool
	Logger  *slog.Logger
}

// Manager signs tokens with the current key and publishes the JWKS.
type Manager struct {
	store KeyStore
	clock fedid.Clock
	opts  Options
	state atomic.Pointer[state]
	// lastMiss is when an unknown kid last caused a reload (Unix ns).
	lastMiss atomic.Int64
}

// state is an immutable snapshot of the key set; Mint and Verify read it
// without locks.
type state struct {
	fingerprint string
	current     *signingKey
	// pending is the kid of a published key not yet signing.
	pending string
	public  map[string]*rsa.PublicKey
	jwks    []byte
	// rotateAt is when the current key is due for rotation.
	rotateAt time.Time
}

type signingKey struct {
	kid    string
	seq    int64
	header string // base64url of the JWS header, with its trailing dot
	signer signer
}

var _ fedid.TokenSigner = (*Manager)(nil)

// NewManager returns a manager; call Init before use.
func NewManager(store KeyStore, clock fedid.Clock, opts Options) *Manager {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.RotationPeriod <= 0 {
		opts.RotationPeriod = DefaultRotationPeriod
	}
	if opts.MaxTokenLifetime <= 0 {
		opts.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	if opts.ReloadEvery <= 0 {
		opts.ReloadEvery = DefaultReloadEvery
	}
	if opts.PublishLead <= 0 {
		opts.PublishLead = 2*opts.ReloadEvery + 10*time.Second
	}
	if opts.Bits == 0 {
		opts.Bits = 2048
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if clock == nil {
		clock = fedid.SystemClock{}
	}
	return &Manager{store: store, clock: clock, opts: opts}
}

// Init makes sure a current key exists (creating one if the store has
// none; of several instances starting together, all keep the first stored)
// and loads the key set.
func (m *Manager) Init(ctx context.Context) error {
	if keys, err := m.store.SigningKeys(ctx); err == nil && current(keys, m.clock.Now()) != nil {
		return m.load(keys)
	}
	fresh, err := m.newKey()
	if err != nil {
		return err
	}
	err = m.store.UpdateSigningKeys(ctx, func(keys []fedid.SigningKey) ([]fedid.SigningKey, error) {
		if current(keys, m.clock.Now()) != nil {
			return keys, nil
		}
		return append(keys, withSeq(fresh, keys, m.opts.Region)), nil
	})
	if err != nil {
		return fmt.Errorf("keys: init: %w", err)
	}
	return m.Reload(ctx)
}

// Reload re-reads the keys from the store.
func (m *Manager) Reload(ctx context.Context) error {
	keys, err := m.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: reload: %w", err)
	}
	return m.load(keys)
}

// Rotate publishes a new key that takes over signing after PublishLead,
// when the current key is due, or at once when force is set.
func (m *Manager) Rotate(ctx context.Context, force bool) error {
	st := m.state.Load()
	if st == nil {
		return errors.New("keys: rotate before init")
	}
	if !force && m.clock.Now().Before(st.rotateAt) {
		return nil
	}
	return m.RotateFrom(ctx, st.current.seq)
}

// RotateFrom rotates only if the current key is still the one with
// sequence number seen and no newer key is pending. Several instances
// asking at about the same time thus produce one new key, not one each.
// The new key is published at once and signs from PublishLead on; the
// previous key then retires and stays published until every token it
// signed has expired.
func (m *Manager) RotateFrom(ctx context.Context, seen int64) error {
	fresh, err := m.newKey()
	if err != nil {
		return err
	}
	err = m.store.UpdateSigningKeys(ctx, func(keys []fedid.SigningKey) ([]fedid.SigningKey, error) {
		now := m.clock.Now()
		out := make([]fedid.SigningKey, 0, len(keys)+1)
		for _, k := range keys {
			if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
				continue // every token it signed has expired
			}
			if k.Seq > seen {
				return keys, nil // someone else rotated first
			}
			out = append(out, k)
		}
		cur := current(out, now)
		if cur != nil && cur.Seq != seen {
			return keys, nil
		}
		fresh.ActiveAt = now.Add(m.opts.PublishLead)
		if cur != nil {
			for i := range out {
				if out[i].ID == cur.ID {
					out[i].RetiredAt = fresh.ActiveAt
					out[i].ExpiresAt = fresh.ActiveAt.Add(m.opts.MaxTokenLifetime)
				}
			}
		}
		return append(out, withSeq(fresh, keys, m.opts.Region)), nil
	})
	if err != nil {
		return fmt.Errorf("keys: rotate: %w", err)
	}
	return m.Reload(ctx)
}

// PublishLead is how long a new key is published before it signs.
func (m *Manager) PublishLead() time.Duration { return m.opts.PublishLead }

// PendingKID is the kid of a published key that does not sign yet, or "".
func (m *Manager) PendingKID() string {
	if st := m.state.Load(); st != nil {
		return st.pending
	}
	return ""
}

// Run reloads the key set every ReloadEvery (with jitter), so that a rotation
// by another instance is picked up, and rotates when the current key is
// due. It returns when ctx ends.
func (m *Manager) Run(ctx context.Context) {
	for {
		d := m.opts.ReloadEvery + time.Duration(rand.Int64N(int64(m.opts.ReloadEvery/4)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		if err := m.Reload(ctx); err != nil {
			m.opts.Logger.Warn("signing keys: reload failed", "err", err)
			continue
		}
		if err := m.Rotate(ctx, false); err != nil {
			m.opts.Logger.Warn("signing keys: rotation failed", "err", err)
		}
	}
}

// CurrentKID is the kid of the key that signs now.
func (m *Manager) CurrentKID() string {
	if st := m.state.Load(); st != nil {
		return st.current.kid
	}
	return ""
}

// newKey generates a key outside any transaction (it takes tens of
// milliseconds); Seq and ID are set when it is stored.
func (m *Manager) newKey() (fedid.SigningKey, error) {
	k, err := generateKey(m.opts.Bits)
	if err != nil {
		return fedid.SigningKey{}, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fedid.SigningKey{}, fmt.Errorf("keys: encode: %w", err)
	}
	now := m.clock.Now()
	return fedid.SigningKey{PrivateKey: der, CreatedAt: now, ActiveAt: now}, nil
}

// withSeq numbers a new key after every key ever seen in keys.
func withSeq(k fedid.SigningKey, keys []fedid.SigningKey, region string) fedid.SigningKey {
	var top int64
	for _, o := range keys {
		top = max(top, o.Seq)
	}
	k.Seq = top + 1
	k.ID = region + "-" + strconv.FormatInt(k.Seq, 10)
	return k
}

// current returns the newest key that is active and not yet retired at
// now.
func current(keys []fedid.SigningKey, now time.Time) *fedid.SigningKey {
	var cur *fedid.SigningKey
	for i := range keys {
		k := &keys[i]
		if now.Before(k.ActiveAt) || (!k.RetiredAt.IsZero() && !now.Before(k.RetiredAt)) {
			continue
		}
		if cur == nil || k.Seq > cur.Seq {
			cur = k
		}
	}
	return cur
}

// load builds a new snapshot unless the key set is unchanged.
func (m *Manager) load(keys []fedid.SigningKey) error {
	now := m.clock.Now()
	cur := current(keys, now)
	if cur == nil {
		return errors.New("keys: no current signing key stored")
	}
	var fp strings.Builder
	fmt.Fprintf(&fp, "current %s;", cur.ID)
	for _, k := range keys {
		fmt.Fprintf(&fp, "%s/%d/%d;", k.ID, k.RetiredAt.UnixNano(), k.ExpiresAt.UnixNano())
	}
	if old := m.state.Load(); old != nil && old.fingerprint == fp.String() {
		return nil
	}
	st := &state{fingerprint: fp.String(), public: map[string]*rsa.PublicKey{}}
	// Current key first in the JWKS, then the others newest first.
	sorted := append([]fedid.SigningKey(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].ID == cur.ID || sorted[j].ID == cur.ID {
			return sorted[i].ID == cur.ID
		}
		return sorted[i].Seq > sorted[j].Seq
	})
	var jwks []jwk
	for _, k := range sorted {
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue
		}
		priv, err := parseKey(k)
		if err != nil {
			return err
		}
		st.public[k.ID] = &priv.PublicKey
		if now.Before(k.ActiveAt) {
			st.pending = k.ID
		}
		jwks = append(jwks, jwk{Kty: "RSA", Alg: "RS512", Use: "sig", Kid: k.ID,
			N: base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes())})
		if k.ID == cur.ID {
			sg, err := newSigner(priv, m.opts.ForceGo)
			if err != nil {
				return err
			}
			hdr := `{"kid":` + quote(k.ID) + `,"typ":"JWS","alg":"RS512"}`
			st.current = &signingKey{kid: k.ID, seq: k.Seq, signer: sg,
				header: base64.RawURLEncoding.EncodeToString([]byte(hdr)) + "."}
			st.rotateAt = k.ActiveAt.Add(m.opts.RotationPeriod)
		}
	}
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{jwks})
	if err != nil {
		return fmt.Errorf("keys: jwks: %w", err)
	}
	st.jwks = b
	m.state.Store(st)
	return nil
}

func parseKey(k fedid.SigningKey) (*rsa.PrivateKey, error) {
	pk, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keys: parse key %s: %w", k.ID, err)
	}
	priv, ok := pk.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: key %s is not RSA", k.ID)
	}
	return priv, nil
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
	sig, err := k.signer.sign(digest[:])
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

// Package keys holds fedid's token signing keys: RSA-2048 keys generated
// on first start and stored in the database, rotation shared safely by
// every instance on that database (dex's updater pattern), RS512 signing
// through OpenSSL or crypto/rsa, verification of fedid's own tokens, and
// the JWKS.
package keys

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"sort"
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
	// ObserveSign, when set, is told how long each signature took (for a
	// latency histogram on /metrics).
	ObserveSign func(time.Duration)
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
	active time.Time // when it started signing
	header string    // base64url of the JWS header, with its trailing dot
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
			st.current = &signingKey{kid: k.ID, seq: k.Seq, signer: sg, active: k.ActiveAt,
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

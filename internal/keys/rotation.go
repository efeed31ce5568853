package keys

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fedid/fedid"
)

// Rotation: a new key is published first and signs only after PublishLead,
// so every instance and verifier has it before its first token.

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

// CurrentKeyAge is how long the current key has been signing.
func (m *Manager) CurrentKeyAge() time.Duration {
	if st := m.state.Load(); st != nil {
		return m.clock.Now().Sub(st.current.active)
	}
	return 0
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

// KeyState is where a stored key is in its life.
type KeyState string

// The states of a stored signing key.
const (
	StateNext    KeyState = "next"    // published, signs from ActiveAt on
	StateCurrent KeyState = "current" // signs now
	StateRetired KeyState = "retired" // published until ExpiresAt, signs no more
)

// KeyInfo is a stored signing key without its private part.
type KeyInfo struct {
	ID                  string
	State               KeyState
	CreatedAt, ActiveAt time.Time
	// RetiredAt and ExpiresAt are zero while the key has no successor.
	RetiredAt, ExpiresAt time.Time
}

// List reads the stored signing keys, oldest first, with their state now;
// keys whose tokens have all expired are left out.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	keys, err := m.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	cur := current(keys, now)
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue
		}
		ki := KeyInfo{ID: k.ID, CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
		switch {
		case now.Before(k.ActiveAt):
			ki.State = StateNext
		case cur != nil && cur.ID == k.ID:
			ki.State = StateCurrent
		default:
			ki.State = StateRetired
		}
		out = append(out, ki)
	}
	return out, nil
}

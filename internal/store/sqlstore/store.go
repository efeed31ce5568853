package sqlstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/codec"
)

// Updater runs a write transaction the engine's way (its isolation, its
// retries); it is the engine's Store.
type Updater interface {
	Update(ctx context.Context, fn func(tx fedid.Tx) error) error
}

// Store is all of fedid.Store but Update, Ping and Close, which stay with
// the engine that embeds it. Its Reader reads on the engine's read
// connections; single writes outside a transaction go to w.
type Store struct {
	Reader // its key seals and opens the secrets
	w      Querier
	up     Updater
	prev   map[string]*seal.Key // by ID
	log    *slog.Logger
	// observe times the statements of transactions too (Tx).
	observe QueryObserver
}

// Store returns the shared part of an engine's store: reads through r,
// writes through w, transactions through up, secrets sealed as o says.
func (s *SQL) Store(r, w Querier, up Updater, o Options) *Store {
	st := &Store{Reader: s.Reader(s.timed(r, o.Observe), o.MasterKey), w: s.timed(w, o.Observe), up: up,
		prev: map[string]*seal.Key{}, log: o.Log, observe: o.Observe}
	if st.log == nil {
		st.log = slog.Default()
	}
	for _, k := range o.Previous {
		if k != nil && k.ID() != o.MasterKey.ID() {
			st.prev[k.ID()] = k
		}
	}
	return st
}

// SealAtOpen finishes opening the store, after the engine's migrations:
// it seals (or re-seals) the stored secrets as the Options ask, or refuses
// a store sealed with a master key it was not given. It returns how many
// secrets it sealed again.
func (s *Store) SealAtOpen(ctx context.Context) (int, error) { return s.sealAtOpen(ctx) }

// CreateIdentity implements fedid.Store. Where the dialect can
// (PostgreSQL), an identity with at most one login is written by one
// statement committed on its own: one round trip where a transaction takes
// four. Elsewhere it is a transaction of the engine's.
func (s *Store) CreateIdentity(ctx context.Context, x *fedid.Identity) error {
	if s.s.InsertIdentityLogin == "" || len(x.Logins) > 1 {
		return s.up.Update(ctx, func(tx fedid.Tx) error { return tx.CreateIdentity(ctx, x) })
	}
	args, q := identityArgs(x), s.s.InsertIdentity
	if len(x.Logins) == 1 {
		l := x.Logins[0]
		args, q = append(args, l.Provider, l.Key, l.Developer, ns(l.LinkedAt)), s.s.InsertIdentityLogin
	}
	return insertIdentity(ctx, s.s, s.w, q, args)
}

// PutAccessKey stores or replaces an access key.
func (s *Store) PutAccessKey(ctx context.Context, k fedid.AccessKey) error {
	secret := s.key.SealString(k.Secret, rowID("access_keys", k.ID))
	_, err := s.w.Exec(ctx, s.s.putAccessKey, k.ID, secret, k.Account, ns(k.Created))
	return s.s.Wrap("put access key", err)
}

// CountAccessKeys counts the stored access keys.
func (s *Store) CountAccessKeys(ctx context.Context) (int, error) {
	var n int
	err := s.q.QueryRow(ctx, s.s.countAccessKeys).Scan(&n)
	return n, s.s.Wrap("count access keys", err)
}

// ListAccessKeys lists every access key, newest first, without their
// secrets (a listing never needs them, and they may be sealed).
func (s *Store) ListAccessKeys(ctx context.Context) ([]fedid.AccessKey, error) {
	rows, err := s.q.Query(ctx, s.s.listAccessKeys)
	if err != nil {
		return nil, s.s.Wrap("list access keys", err)
	}
	defer rows.Close()
	var out []fedid.AccessKey
	for rows.Next() {
		var k fedid.AccessKey
		var created, used int64
		if err := rows.Scan(&k.ID, &k.Account, &created, &used); err != nil {
			return nil, s.s.Wrap("list access keys", err)
		}
		k.Created, k.LastUsed = fromNS(created), fromNS(used)
		out = append(out, k)
	}
	return out, s.s.Wrap("list access keys", rows.Err())
}

// DeleteAccessKey deletes an access key; ErrNotFound when absent.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	n, err := s.w.Exec(ctx, s.s.deleteAccessKey, id)
	if err != nil {
		return s.s.Wrap("delete access key", err)
	}
	if n == 0 {
		return s.s.errorf("delete access key %s: %w", id, fedid.ErrNotFound)
	}
	return nil
}

// TouchAccessKey records the key's last use, keeping the later time.
func (s *Store) TouchAccessKey(ctx context.Context, id string, t time.Time) error {
	_, err := s.w.Exec(ctx, s.s.touchAccessKey, ns(t), id, ns(t))
	return s.s.Wrap("touch access key", err)
}

// UpdateSigningKeys replaces the stored keys with what fn returns, in one
// write transaction.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func([]fedid.SigningKey) ([]fedid.SigningKey, error)) error {
	return s.up.Update(ctx, func(t fedid.Tx) error {
		tx := AsTx(t)
		old, err := tx.SigningKeys(ctx)
		if err != nil {
			return err
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		return codec.ReplaceKeys(old, next, func(k fedid.SigningKey) error {
			_, err := tx.q.Exec(ctx, s.s.putKey,
				k.ID, k.Seq, s.key.Seal(k.PrivateKey, rowID("signing_keys", k.ID)), ns(k.CreatedAt), ns(k.ActiveAt), ns(k.RetiredAt), ns(k.ExpiresAt))
			return s.s.Wrap("put signing key", err)
		}, func(id string) error {
			_, err := tx.q.Exec(ctx, s.s.deleteKey, id)
			return s.s.Wrap("delete signing key", err)
		})
	})
}

// PutOIDCProvider stores or replaces an OIDC provider.
func (s *Store) PutOIDCProvider(ctx context.Context, p fedid.OIDCProvider) error {
	doc, err := codec.EncodeOIDCProvider(&p)
	if err != nil {
		return s.s.errorf("put OIDC provider: %w", err)
	}
	_, err = s.w.Exec(ctx, s.s.putProvider, p.ARN, p.Account, p.URL, doc, ns(p.CreatedAt))
	return s.s.Wrap("put OIDC provider", err)
}

// GetOIDCProvider returns an OIDC provider by ARN.
func (s *Store) GetOIDCProvider(ctx context.Context, arn string) (*fedid.OIDCProvider, error) {
	p, err := scanProvider(s.q.QueryRow(ctx, s.s.getProvider, arn))
	if err != nil {
		return nil, s.s.Wrap("get OIDC provider", err)
	}
	return p, nil
}

// ListOIDCProviders lists an account's OIDC providers ("": every account's).
func (s *Store) ListOIDCProviders(ctx context.Context, account string) ([]fedid.OIDCProvider, error) {
	query, args := s.s.listProviders, []any{account}
	if account == "" {
		query, args = s.s.listAllProviders, nil
	}
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, s.s.Wrap("list OIDC providers", err)
	}
	defer rows.Close()
	var out []fedid.OIDCProvider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, s.s.Wrap("list OIDC providers", err)
		}
		out = append(out, *p)
	}
	return out, s.s.Wrap("list OIDC providers", rows.Err())
}

// DeleteOIDCProvider deletes an OIDC provider.
func (s *Store) DeleteOIDCProvider(ctx context.Context, arn string) error {
	n, err := s.w.Exec(ctx, s.s.deleteProvider, arn)
	if err != nil {
		return s.s.Wrap("delete OIDC provider", err)
	}
	if n == 0 {
		return s.s.errorf("delete OIDC provider: %w", fedid.ErrNotFound)
	}
	return nil
}

func scanProvider(row scanner) (*fedid.OIDCProvider, error) {
	var p fedid.OIDCProvider
	var doc string
	var created int64
	if err := row.Scan(&p.ARN, &p.Account, &p.URL, &doc, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromNS(created)
	return &p, codec.DecodeOIDCProvider(&p, doc)
}

// PutSession stores temporary credentials.
func (s *Store) PutSession(ctx context.Context, se fedid.Session) error {
	tags, err := json.Marshal(se.Tags)
	if err != nil {
		return s.s.errorf("put session: %w", err)
	}
	secret := s.key.SealString(se.Secret, rowID("sessions", se.AccessKeyID))
	_, err = s.w.Exec(ctx, s.s.putSession, se.AccessKeyID, secret, se.TokenHash, se.Account, se.RoleARN,
		se.IdentityID, se.PoolID, string(tags), ns(se.CreatedAt), ns(se.ExpiresAt))
	return s.s.Wrap("put session", err)
}

// GetSession returns the session of an access key ID.
func (s *Store) GetSession(ctx context.Context, accessKeyID string) (*fedid.Session, error) {
	var se fedid.Session
	var tags, secret string
	var created, expires int64
	err := s.q.QueryRow(ctx, s.s.getSession, accessKeyID).Scan(&se.AccessKeyID, &secret, &se.TokenHash,
		&se.Account, &se.RoleARN, &se.IdentityID, &se.PoolID, &tags, &created, &expires)
	if err != nil {
		return nil, s.s.Wrap("get session", err)
	}
	se.CreatedAt, se.ExpiresAt = fromNS(created), fromNS(expires)
	if se.Secret, err = s.openString(secret, "sessions", se.AccessKeyID); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &se.Tags); err != nil {
		return nil, s.s.errorf("session tags: %w", err)
	}
	return &se, nil
}

// DeleteSessionsBefore deletes sessions that expired before t.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := s.w.Exec(ctx, s.s.deleteSessions, ns(t))
	if err != nil {
		return 0, s.s.Wrap("delete sessions", err)
	}
	return int(n), nil
}

package sqlstore

import (
	"context"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

// Tx implements fedid.Tx over one transaction of the engine, which begins,
// commits and retries it.
type Tx struct {
	Reader
}

var _ fedid.Tx = (*Tx)(nil)

// Tx returns the operations of a transaction whose queries q runs, with
// the store's master key.
func (s *Store) Tx(q Querier) *Tx { return &Tx{Reader{s: s.s, q: s.s.timed(q, s.observe), key: s.key}} }

// CreatePool implements fedid.Tx.
func (t *Tx) CreatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return t.s.errorf("create pool: %w", err)
	}
	p.Version = 1
	n, err := t.q.Exec(ctx, t.s.insertPool, p.ID, p.Account, p.Region, p.Name, ns(p.CreatedAt), p.Version, doc)
	if err != nil {
		return t.s.Wrap("create pool", err)
	}
	if n == 0 {
		return t.s.errorf("create pool %s: %w", p.ID, fedid.ErrDuplicate)
	}
	return nil
}

// UpdatePool implements fedid.Tx.
func (t *Tx) UpdatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return t.s.errorf("update pool: %w", err)
	}
	n, err := t.q.Exec(ctx, t.s.updatePool, p.Name, p.Version, doc, p.ID, p.Version-1)
	if err != nil {
		return t.s.Wrap("update pool", err)
	}
	if n == 1 {
		return nil
	}
	var v int64
	if err := t.q.QueryRow(ctx, t.s.poolVer, p.ID).Scan(&v); err != nil {
		return t.s.Wrap("update pool", err)
	}
	return t.s.errorf("update pool %s: stored version %d, writing %d: %w", p.ID, v, p.Version, fedid.ErrVersion)
}

// DeletePool implements fedid.Tx.
func (t *Tx) DeletePool(ctx context.Context, id string) error {
	// Logins reference identities, identities reference pools; the
	// cascades remove both. Delete logins first explicitly to keep the
	// cascade shallow on large pools.
	if _, err := t.q.Exec(ctx, t.s.deletePoolLogins, id); err != nil {
		return t.s.Wrap("delete pool", err)
	}
	return t.changeOne(ctx, "delete pool", t.s.deletePool, id)
}

// Reset implements fedid.Tx.
func (t *Tx) Reset(ctx context.Context) error {
	for _, q := range t.s.reset {
		if _, err := t.q.Exec(ctx, q); err != nil {
			return t.s.Wrap("reset", err)
		}
	}
	return nil
}

// changeOne runs a statement that must change a row; ErrNotFound when it
// changed none.
func (t *Tx) changeOne(ctx context.Context, op, query string, args ...any) error {
	n, err := t.q.Exec(ctx, query, args...)
	if err != nil {
		return t.s.Wrap(op, err)
	}
	if n == 0 {
		return t.s.errorf("%s: %w", op, fedid.ErrNotFound)
	}
	return nil
}

// CreateIdentity implements fedid.Tx.
func (t *Tx) CreateIdentity(ctx context.Context, x *fedid.Identity) error {
	if err := insertIdentity(ctx, t.s, t.q, t.s.InsertIdentity, identityArgs(x)); err != nil {
		return err
	}
	for _, l := range x.Logins {
		if err := t.AddLogin(ctx, x.PoolID, x.ID, l); err != nil {
			return err
		}
	}
	return nil
}

// identityArgs are InsertIdentity's arguments for x.
func identityArgs(x *fedid.Identity) []any {
	region, key := identityKey(x.ID)
	return []any{key, x.Authenticated, x.Disabled, ns(x.CreatedAt), ns(x.ModifiedAt) - ns(x.CreatedAt), x.PoolID, region}
}

// insertIdentity runs InsertIdentity, or InsertIdentityLogin, with args;
// ErrNotFound when no row was written: the pool is missing, or its region
// is not the ID's (the store keeps an ID without its region, which is its
// pool's).
func insertIdentity(ctx context.Context, s *SQL, q Querier, query string, args []any) error {
	n, err := q.Exec(ctx, query, args...)
	if err != nil {
		return s.Wrap("create identity", err)
	}
	if n == 0 {
		return s.errorf("create identity: no pool %s of region %q: %w", args[5], args[6], fedid.ErrNotFound)
	}
	return nil
}

// UpdateIdentity implements fedid.Tx.
func (t *Tx) UpdateIdentity(ctx context.Context, x *fedid.Identity) error {
	region, key := identityKey(x.ID)
	return t.changeOne(ctx, "update identity", t.s.UpdateIdentity, x.Authenticated, x.Disabled, ns(x.ModifiedAt), key, region)
}

// DeleteIdentity implements fedid.Tx.
func (t *Tx) DeleteIdentity(ctx context.Context, id string) error {
	region, key := identityKey(id)
	if _, err := t.q.Exec(ctx, t.s.deleteIdentityLogins, key, region); err != nil {
		return t.s.Wrap("delete identity", err)
	}
	return t.changeOne(ctx, "delete identity", t.s.deleteIdentity, key, region)
}

// AddLogin implements fedid.Tx.
func (t *Tx) AddLogin(ctx context.Context, poolID, identityID string, l fedid.Login) error {
	n, err := t.q.Exec(ctx, t.s.InsertLogin, l.Provider, l.Key, keyOf(identityID), l.Developer, ns(l.LinkedAt), poolID)
	if err != nil {
		return t.s.Wrap("add login", err)
	}
	if n == 0 {
		return t.s.errorf("add login: no pool %s: %w", poolID, fedid.ErrNotFound)
	}
	return nil
}

// RemoveLogin implements fedid.Tx.
func (t *Tx) RemoveLogin(ctx context.Context, identityID, provider, key string) error {
	region, id := identityKey(identityID)
	return t.changeOne(ctx, "remove login", t.s.removeLogin, id, provider, key, region)
}

// MoveLogins implements fedid.Tx.
func (t *Tx) MoveLogins(ctx context.Context, from, to string) error {
	region, key := identityKey(from)
	_, err := t.q.Exec(ctx, t.s.moveLogins, keyOf(to), key, region)
	return t.s.Wrap("move logins", err)
}

// AsTx returns the SQL transaction behind a fedid.Tx that Update gave: the
// *Tx itself, or the one an engine's wrapper holds (SQLTx).
func AsTx(t fedid.Tx) *Tx {
	if w, ok := t.(interface{ SQLTx() *Tx }); ok {
		return w.SQLTx()
	}
	return t.(*Tx)
}

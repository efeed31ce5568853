package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

// tx implements fedid.Tx over one serializable transaction.
type tx struct {
	reader
	q pgx.Tx
}

func newTx(q pgx.Tx) *tx { return &tx{reader: reader{q: q}, q: q} }

func (t *tx) CreatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return fmt.Errorf("postgres: create pool: %w", err)
	}
	p.Version = 1
	_, err = t.q.Exec(ctx, `INSERT INTO pools (`+poolCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.Account, p.Region, p.Name, ns(p.CreatedAt), p.Version, doc)
	return wrap("create pool", err)
}

func (t *tx) UpdatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return fmt.Errorf("postgres: update pool: %w", err)
	}
	tag, err := t.q.Exec(ctx, `UPDATE pools SET name = $1, version = $2, config = $3 WHERE id = $4 AND version = $5`,
		p.Name, p.Version, doc, p.ID, p.Version-1)
	if err != nil {
		return wrap("update pool", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var v int64
	if err := t.q.QueryRow(ctx, `SELECT version FROM pools WHERE id = $1`, p.ID).Scan(&v); err != nil {
		return wrap("update pool", err)
	}
	return fmt.Errorf("postgres: update pool %s: stored version %d, writing %d: %w", p.ID, v, p.Version, fedid.ErrVersion)
}

func (t *tx) DeletePool(ctx context.Context, id string) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM logins WHERE pool_id = $1`, id); err != nil {
		return wrap("delete pool", err)
	}
	tag, err := t.q.Exec(ctx, `DELETE FROM pools WHERE id = $1`, id)
	if err != nil {
		return wrap("delete pool", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete pool: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) CreateIdentity(ctx context.Context, x *fedid.Identity) error {
	_, err := t.q.Exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		x.ID, x.PoolID, x.Authenticated, x.Disabled, ns(x.CreatedAt), ns(x.ModifiedAt))
	if err != nil {
		return wrap("create identity", err)
	}
	for _, l := range x.Logins {
		if err := t.AddLogin(ctx, x.PoolID, x.ID, l); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateIdentity(ctx context.Context, x *fedid.Identity) error {
	tag, err := t.q.Exec(ctx, `UPDATE identities SET authenticated = $1, disabled = $2, modified_ns = $3 WHERE id = $4`,
		x.Authenticated, x.Disabled, ns(x.ModifiedAt), x.ID)
	if err != nil {
		return wrap("update identity", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update identity: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) DeleteIdentity(ctx context.Context, id string) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM logins WHERE identity_id = $1`, id); err != nil {
		return wrap("delete identity", err)
	}
	tag, err := t.q.Exec(ctx, `DELETE FROM identities WHERE id = $1`, id)
	if err != nil {
		return wrap("delete identity", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete identity: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) AddLogin(ctx context.Context, poolID, identityID string, l fedid.Login) error {
	_, err := t.q.Exec(ctx, `INSERT INTO logins (pool_id, identity_id, provider, key, developer, linked_ns) VALUES ($1, $2, $3, $4, $5, $6)`,
		poolID, identityID, l.Provider, l.Key, l.Developer, ns(l.LinkedAt))
	return wrap("add login", err)
}

func (t *tx) RemoveLogin(ctx context.Context, identityID, provider, key string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM logins WHERE identity_id = $1 AND provider = $2 AND key = $3`, identityID, provider, key)
	if err != nil {
		return wrap("remove login", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: remove login: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) MoveLogins(ctx context.Context, from, to string) error {
	_, err := t.q.Exec(ctx, `UPDATE logins SET identity_id = $1 WHERE identity_id = $2`, to, from)
	return wrap("move logins", err)
}

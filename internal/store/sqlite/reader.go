package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

// SQL of the hot reads, prepared once on the reader pool.
const (
	qAccessKey      = `SELECT id, secret, account, created FROM access_keys WHERE id = ?`
	qPool           = `SELECT ` + poolCols + ` FROM pools WHERE id = ?`
	qFindLogin      = `SELECT identity_id FROM logins WHERE pool_id = ? AND provider = ? AND key = ?`
	qIdentity       = `SELECT ` + identityCols + ` FROM identities WHERE id = ?`
	qIdentityLogins = `SELECT provider, key, developer, linked_ns FROM logins WHERE identity_id = ? ORDER BY linked_ns, rowid`

	qInsertIdentity = `INSERT INTO identities (` + identityCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	qUpdateIdentity = `UPDATE identities SET authenticated = ?, disabled = ?, modified_ns = ? WHERE id = ?`
	qInsertLogin    = `INSERT INTO logins (pool_id, identity_id, provider, key, developer, linked_ns) VALUES (?, ?, ?, ?, ?, ?)`
)

// queries holds the prepared statements of the reader pool.
type queries struct {
	accessKey, pool, findLogin, identity, identityLogins *sql.Stmt
}

func (q *queries) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&q.accessKey, qAccessKey}, {&q.pool, qPool}, {&q.findLogin, qFindLogin},
		{&q.identity, qIdentity}, {&q.identityLogins, qIdentityLogins},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (q *queries) close() {
	for _, st := range []*sql.Stmt{q.accessKey, q.pool, q.findLogin, q.identity, q.identityLogins} {
		if st != nil {
			st.Close()
		}
	}
}

// reader implements fedid.Reader over the reader pool (with prepared
// statements) or a transaction.
type reader struct {
	q  querier
	st *queries // nil inside a transaction
}

func (r reader) row(ctx context.Context, st *sql.Stmt, query string, args ...any) *sql.Row {
	if r.st != nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.q.QueryRowContext(ctx, query, args...)
}

func (r reader) rows(ctx context.Context, st *sql.Stmt, query string, args ...any) (*sql.Rows, error) {
	if r.st != nil && st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.q.QueryContext(ctx, query, args...)
}

func (r reader) stmt(f func(*queries) *sql.Stmt) *sql.Stmt {
	if r.st == nil {
		return nil
	}
	return f(r.st)
}

func (r reader) GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error) {
	var k fedid.AccessKey
	var created int64
	err := r.row(ctx, r.stmt(func(q *queries) *sql.Stmt { return q.accessKey }), qAccessKey, id).
		Scan(&k.ID, &k.Secret, &k.Account, &created)
	if err != nil {
		return nil, wrap("get access key", err)
	}
	k.Created = fromNS(created)
	return &k, nil
}

func (r reader) GetPool(ctx context.Context, id string) (*fedid.Pool, error) {
	p, err := scanPool(r.row(ctx, r.stmt(func(q *queries) *sql.Stmt { return q.pool }), qPool, id))
	if err != nil {
		return nil, wrap("get pool", err)
	}
	return p, nil
}

func (r reader) ListPools(ctx context.Context, account, region string, after fedid.Cursor, limit int) ([]*fedid.Pool, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+poolCols+` FROM pools
		WHERE account = ? AND region = ? AND (created_ns > ? OR (created_ns = ? AND id > ?))
		ORDER BY created_ns, id LIMIT ?`, account, region, ns(after.CreatedAt), ns(after.CreatedAt), after.ID, limit)
	if err != nil {
		return nil, wrap("list pools", err)
	}
	defer rows.Close()
	var out []*fedid.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, wrap("list pools", err)
		}
		out = append(out, p)
	}
	return out, wrap("list pools", rows.Err())
}

func (r reader) CountPools(ctx context.Context, account, region string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pools WHERE account = ? AND region = ?`, account, region).Scan(&n)
	return n, wrap("count pools", err)
}

func (r reader) GetIdentity(ctx context.Context, id string) (*fedid.Identity, error) {
	x, err := scanIdentity(r.row(ctx, r.stmt(func(q *queries) *sql.Stmt { return q.identity }), qIdentity, id))
	if err != nil {
		return nil, wrap("get identity", err)
	}
	if x.Logins, err = r.logins(ctx, id); err != nil {
		return nil, err
	}
	return x, nil
}

func (r reader) logins(ctx context.Context, identityID string) ([]fedid.Login, error) {
	rows, err := r.rows(ctx, r.stmt(func(q *queries) *sql.Stmt { return q.identityLogins }), qIdentityLogins, identityID)
	if err != nil {
		return nil, wrap("identity logins", err)
	}
	defer rows.Close()
	var out []fedid.Login
	for rows.Next() {
		var l fedid.Login
		var linked int64
		if err := rows.Scan(&l.Provider, &l.Key, &l.Developer, &linked); err != nil {
			return nil, wrap("identity logins", err)
		}
		l.LinkedAt = fromNS(linked)
		out = append(out, l)
	}
	return out, wrap("identity logins", rows.Err())
}

func (r reader) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	var id string
	err := r.row(ctx, r.stmt(func(q *queries) *sql.Stmt { return q.findLogin }), qFindLogin, poolID, provider, key).Scan(&id)
	if err != nil {
		return "", wrap("find login", err)
	}
	return id, nil
}

func (r reader) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + identityCols + ` FROM identities i
		WHERE pool_id = ? AND (created_ns > ? OR (created_ns = ? AND id > ?))`)
	if hideDisabled {
		b.WriteString(` AND disabled = 0 AND (authenticated = 0 OR EXISTS (SELECT 1 FROM logins l WHERE l.identity_id = i.id))`)
	}
	b.WriteString(` ORDER BY created_ns, id LIMIT ?`)
	rows, err := r.q.QueryContext(ctx, b.String(), poolID, ns(after.CreatedAt), ns(after.CreatedAt), after.ID, limit)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	var out []*fedid.Identity
	for rows.Next() {
		x, err := scanIdentity(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list identities", err)
		}
		out = append(out, x)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, wrap("list identities", err)
	}
	for _, x := range out {
		if x.Logins, err = r.logins(ctx, x.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) SigningKeys(ctx context.Context) ([]fedid.SigningKey, error) {
	return signingKeys(ctx, r.q)
}

// Reader methods of the Store use the reader pool.

func (s *Store) rd() reader { return reader{q: s.r, st: &s.q} }

// GetAccessKey implements fedid.Reader.
func (s *Store) GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error) {
	return s.rd().GetAccessKey(ctx, id)
}

// GetPool implements fedid.Reader.
func (s *Store) GetPool(ctx context.Context, id string) (*fedid.Pool, error) {
	return s.rd().GetPool(ctx, id)
}

// ListPools implements fedid.Reader.
func (s *Store) ListPools(ctx context.Context, account, region string, after fedid.Cursor, limit int) ([]*fedid.Pool, error) {
	return s.rd().ListPools(ctx, account, region, after, limit)
}

// CountPools implements fedid.Reader.
func (s *Store) CountPools(ctx context.Context, account, region string) (int, error) {
	return s.rd().CountPools(ctx, account, region)
}

// GetIdentity implements fedid.Reader.
func (s *Store) GetIdentity(ctx context.Context, id string) (*fedid.Identity, error) {
	return s.rd().GetIdentity(ctx, id)
}

// FindLogin implements fedid.Reader.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	return s.logins.find(ctx, loginKey{poolID, provider, key}, func() (string, error) {
		return s.rd().FindLogin(ctx, poolID, provider, key)
	})
}

// ListIdentities implements fedid.Reader.
func (s *Store) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	return s.rd().ListIdentities(ctx, poolID, after, limit, hideDisabled)
}

// SigningKeys implements fedid.Reader.
func (s *Store) SigningKeys(ctx context.Context) ([]fedid.SigningKey, error) {
	return s.rd().SigningKeys(ctx)
}

// tx implements fedid.Tx over one SQLite transaction.
type tx struct {
	q querier // a cachedTx
}

func (t *tx) rd() reader { return reader{q: t.q} }

func (t *tx) GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error) {
	return t.rd().GetAccessKey(ctx, id)
}
func (t *tx) GetPool(ctx context.Context, id string) (*fedid.Pool, error) {
	return t.rd().GetPool(ctx, id)
}
func (t *tx) ListPools(ctx context.Context, account, region string, after fedid.Cursor, limit int) ([]*fedid.Pool, error) {
	return t.rd().ListPools(ctx, account, region, after, limit)
}
func (t *tx) CountPools(ctx context.Context, account, region string) (int, error) {
	return t.rd().CountPools(ctx, account, region)
}
func (t *tx) GetIdentity(ctx context.Context, id string) (*fedid.Identity, error) {
	return t.rd().GetIdentity(ctx, id)
}
func (t *tx) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	return t.rd().FindLogin(ctx, poolID, provider, key)
}
func (t *tx) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	return t.rd().ListIdentities(ctx, poolID, after, limit, hideDisabled)
}
func (t *tx) SigningKeys(ctx context.Context) ([]fedid.SigningKey, error) {
	return t.rd().SigningKeys(ctx)
}

func (t *tx) CreatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return fmt.Errorf("sqlite: create pool: %w", err)
	}
	p.Version = 1
	_, err = t.q.ExecContext(ctx, `INSERT INTO pools (`+poolCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Account, p.Region, p.Name, ns(p.CreatedAt), p.Version, doc)
	return wrap("create pool", err)
}

func (t *tx) UpdatePool(ctx context.Context, p *fedid.Pool) error {
	doc, err := codec.EncodePool(p)
	if err != nil {
		return fmt.Errorf("sqlite: update pool: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE pools SET name = ?, version = ?, config = ? WHERE id = ? AND version = ?`,
		p.Name, p.Version, doc, p.ID, p.Version-1)
	if err != nil {
		return wrap("update pool", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var v int64
	if err := t.q.QueryRowContext(ctx, `SELECT version FROM pools WHERE id = ?`, p.ID).Scan(&v); err != nil {
		return wrap("update pool", err)
	}
	return fmt.Errorf("sqlite: update pool %s: stored version %d, writing %d: %w", p.ID, v, p.Version, fedid.ErrVersion)
}

func (t *tx) DeletePool(ctx context.Context, id string) error {
	// Logins reference identities, identities reference pools; the
	// cascades remove both. Delete logins first explicitly to keep the
	// cascade shallow on large pools.
	if _, err := t.q.ExecContext(ctx, `DELETE FROM logins WHERE pool_id = ?`, id); err != nil {
		return wrap("delete pool", err)
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM pools WHERE id = ?`, id)
	if err != nil {
		return wrap("delete pool", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: delete pool: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) CreateIdentity(ctx context.Context, x *fedid.Identity) error {
	_, err := t.q.ExecContext(ctx, qInsertIdentity,
		x.ID, x.PoolID, b2i(x.Authenticated), b2i(x.Disabled), ns(x.CreatedAt), ns(x.ModifiedAt))
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
	res, err := t.q.ExecContext(ctx, qUpdateIdentity,
		b2i(x.Authenticated), b2i(x.Disabled), ns(x.ModifiedAt), x.ID)
	if err != nil {
		return wrap("update identity", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: update identity: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) DeleteIdentity(ctx context.Context, id string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM logins WHERE identity_id = ?`, id); err != nil {
		return wrap("delete identity", err)
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM identities WHERE id = ?`, id)
	if err != nil {
		return wrap("delete identity", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: delete identity: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) AddLogin(ctx context.Context, poolID, identityID string, l fedid.Login) error {
	_, err := t.q.ExecContext(ctx, qInsertLogin,
		poolID, identityID, l.Provider, l.Key, b2i(l.Developer), ns(l.LinkedAt))
	return wrap("add login", err)
}

func (t *tx) RemoveLogin(ctx context.Context, identityID, provider, key string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM logins WHERE identity_id = ? AND provider = ? AND key = ?`, identityID, provider, key)
	if err != nil {
		return wrap("remove login", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: remove login: %w", fedid.ErrNotFound)
	}
	return nil
}

func (t *tx) MoveLogins(ctx context.Context, from, to string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE logins SET identity_id = ? WHERE identity_id = ?`, to, from)
	return wrap("move logins", err)
}
